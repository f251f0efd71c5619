// Package testkit boots the real service for integration tests, through
// package app as the commands do: a fresh Postgres database per test
// (internal/testkit/testdb), a real in-process Temporal server (shared per
// test binary, isolated per test by task queue), a worker and the Gin router
// behind an httptest server. It is the one package under internal/ that
// boots the service; a test that needs only a database uses testdb.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/invariants"
	"github.com/contractd/contractd/internal/testkit/testdb"
	"github.com/contractd/contractd/internal/webhooks"
)

var (
	temporalOnce   sync.Once
	temporalServer *temporaltest.TestServer
	temporalClient client.Client
)

// workerLogs records what workflows and activities log (JSON, one record a
// line), so a test can check what an operator would read.
var workerLogs = &LogBuffer{}

var workerLogger = slog.New(slog.NewJSONHandler(workerLogs, nil))

// LogBuffer is a log a server writes while a test reads it.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// apiLogger keeps what the test's API logs at warning and above, and shows
// it only when the test fails: an answer of 500 names its cause there.
func apiLogger(t testing.TB) *slog.Logger {
	logs := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the API logged (warnings and errors):\n%s", logs.String())
		}
	})
	return slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// WorkerLogLines returns the log records workflows and activities wrote that contain substr.
func WorkerLogLines(substr string) []string {
	var out []string
	for _, line := range strings.Split(workerLogs.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// Temporal returns the test binary's shared Temporal server and client,
// starting it on first use. Search attributes are registered once.
func Temporal(t testing.TB) (*temporaltest.TestServer, client.Client) {
	temporalOnce.Do(func() {
		opts, err := app.ClientOptions(workerLogger, nil)
		if err != nil {
			panic(err)
		}
		temporalServer = temporaltest.NewServer(temporaltest.WithBaseClientOptions(opts))
		temporalClient = temporalServer.GetDefaultClient()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := app.EnsureSearchAttributes(ctx, temporalClient, temporalServer.GetDefaultNamespace()); err != nil {
			panic(err)
		}
	})
	return temporalServer, temporalClient
}

// UpdateKey is the key the test binary's API signs Updates with and its
// workers check them with.
var UpdateKey = flow.UpdateKey(uuid.NewString() + uuid.NewString())

// webhookConfig lets tests' receivers be httptest servers on loopback, and
// retries take milliseconds instead of minutes.
var webhookConfig = webhooks.Config{AllowInsecure: true, Retry: webhooks.Retry{
	InitialInterval: 100 * time.Millisecond, MaximumInterval: time.Second, Window: time.Minute,
}}

// Clock is a business clock a test can move; activities and handlers read it.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the wall clock moved by the test's offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Set moves the clock so that Now is at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}

// Tenant is a test tenant with one key per role.
type Tenant struct {
	ID, Prefix                             string
	SubmitterKey, ApproverKey, OperatorKey string
	SubmitterActor                         string
}

// Env is one test's running service.
type Env struct {
	T         testing.TB
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string
	Clock     *Clock
	HTTP      *httptest.Server
	A, B      Tenant
	worker    sdkworker.Worker
	service   *app.Service

	// Faults injects failures into the worker's activities.
	Faults *Faults
	// brokenOnPurpose are invariants the test breaks by design.
	brokenOnPurpose []string
}

// New boots a fresh environment with two tenants, A (with the demo catalog)
// and B (with none).
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	ctx := context.Background()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	e := &Env{T: t, Clock: &Clock{}, Faults: &Faults{}, TaskQueue: "contracts-" + uuid.NewString()[:8]}
	var storeOpts []store.Option
	if o.tracing != nil {
		storeOpts = append(storeOpts, store.WithTracing(o.tracing))
	}
	s := testdb.Migrated(t, storeOpts...)
	e.Store = s

	e.Temporal = temporalClientFor(t, o.tracing)
	e.service = &app.Service{
		Store: s, Temporal: e.Temporal, TaskQueue: e.TaskQueue, Now: e.Clock.Now, Webhooks: webhookConfig,
		UpdateKey: UpdateKey, Logger: apiLogger(t),
		// Runs held up on purpose (a worker restart) are still answered with
		// their totals; WithBillingRunWait serves the 202.
		BillingRunWait: testBillingRunWait,
		// A test's changes are answered with what their workflows did, even
		// on a CI machine busy enough to keep them waiting; WithAmendmentWait
		// serves the 202.
		AmendmentWait: config.MaxAmendmentWait,
		Tracing:       o.tracing,
	}
	e.StartWorker()
	t.Cleanup(e.StopWorker)

	e.HTTP = httptest.NewServer(e.service.Router())
	t.Cleanup(e.HTTP.Close)

	e.A = e.NewTenant("TA")
	e.B = e.NewTenant("TB")
	_, err := s.PutCatalog(ctx, e.A.ID, uuid.NewString(), demo.Catalog(), e.Clock.Now())
	require.NoError(t, err)
	// Registered last, so it runs first: with the worker and database still up.
	t.Cleanup(e.checkInvariants)
	return e
}

// checkInvariants fails a test that passed but left the database breaking
// an invariant (internal/testkit/invariants). A test that failed already
// has its own story to tell.
func (e *Env) checkInvariants() {
	if !e.T.Failed() {
		invariants.Require(e.T, e.Store.DB(), e.Temporal, invariantSettle, e.brokenOnPurpose...)
	}
}

// BreaksOnPurpose names an invariant the test leaves broken by design (a
// fault it injects that only an operator can repair), so the check after
// the test does not count it. Every other invariant is still checked.
func (e *Env) BreaksOnPurpose(invariant string) {
	e.brokenOnPurpose = append(e.brokenOnPurpose, invariant)
}

// invariantSettle is how long a workflow may take to finish the step it is
// on before its amendment's state counts as disagreeing with it.
const invariantSettle = 10 * time.Second

// StartWorker starts a worker on the test's task queue (again, after StopWorker).
func (e *Env) StartWorker() {
	e.worker = e.service.NewWorker(e.Faults)
	require.NoError(e.T, e.worker.Start())
}

// StopWorker stops the test's worker, as a crash or deploy would.
func (e *Env) StopWorker() {
	if e.worker != nil {
		e.worker.Stop()
		e.worker = nil
	}
}

// NewTenant creates a tenant with fresh keys.
func (e *Env) NewTenant(prefix string) Tenant {
	return e.newTenant(store.Tenant{Prefix: prefix, Name: "Tenant " + prefix})
}

// NewSandboxTenant creates a sandbox tenant (one that may use test clocks)
// with fresh keys and the demo catalog.
func (e *Env) NewSandboxTenant(prefix string) Tenant {
	tn := e.newTenant(store.Tenant{Prefix: prefix, Name: "Sandbox " + prefix, Sandbox: true})
	_, err := e.Store.PutCatalog(context.Background(), tn.ID, uuid.NewString(), demo.Catalog(), e.Clock.Now())
	require.NoError(e.T, err)
	return tn
}

func (e *Env) newTenant(st store.Tenant) Tenant {
	prefix := st.Prefix
	tn := Tenant{Prefix: prefix, SubmitterActor: uuid.NewString()}
	keys := map[auth.Role]*string{auth.RoleSubmitter: &tn.SubmitterKey, auth.RoleApprover: &tn.ApproverKey, auth.RoleOperator: &tn.OperatorKey}
	var nk []store.NewKey
	for _, role := range auth.AllRoles {
		k, err := auth.NewKey(prefix)
		require.NoError(e.T, err)
		*keys[role] = k
		actor := uuid.NewString()
		if role == auth.RoleSubmitter {
			actor = tn.SubmitterActor
		}
		nk = append(nk, store.NewKey{Key: k, ActorID: actor, Roles: []auth.Role{role}})
	}
	t, err := e.Store.CreateTenant(context.Background(), st, nk)
	require.NoError(e.T, err)
	tn.ID = t.ID
	return tn
}

// NewTenantKey adds a key with its own actor and the given roles to tenant tn.
func (e *Env) NewTenantKey(tn Tenant, roles ...auth.Role) string {
	e.T.Helper()
	return e.addKey(tn, store.NewKey{Roles: roles})
}

// NewCustomerKey adds a customer key (source CUSTOMER, role submitter) for the
// account of tenant tn, as `contractd tenant key create --customer` does.
func (e *Env) NewCustomerKey(tn Tenant, accountNumber string) string {
	e.T.Helper()
	return e.addKey(tn, store.NewKey{Roles: []auth.Role{auth.RoleSubmitter}, Source: auth.SourceCustomer, AccountNumber: accountNumber})
}

// addKey stores nk with a fresh key and actor for tenant tn and returns the key.
func (e *Env) addKey(tn Tenant, nk store.NewKey) string {
	e.T.Helper()
	var err error
	nk.Key, err = auth.NewKey(tn.Prefix)
	require.NoError(e.T, err)
	nk.ActorID = uuid.NewString()
	_, err = e.Store.EnsureTenant(context.Background(), store.Tenant{ID: tn.ID, Prefix: tn.Prefix}, []store.NewKey{nk})
	require.NoError(e.T, err)
	return nk.Key
}

// Response is an HTTP answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Do sends a request with key as bearer token (none when empty). body may be
// a string, []byte or any value to encode as JSON.
func (e *Env) Do(method, path, key string, body any, headers ...string) Response {
	e.T.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.T, err)
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, reader)
	require.NoError(e.T, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.T, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.T, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// CountRows counts rows of a table in the test's database.
func (e *Env) CountRows(table string) int {
	e.T.Helper()
	var n int
	require.NoError(e.T, e.Store.DB().Get(&n, fmt.Sprintf("SELECT count(*) FROM %s", table)))
	return n
}

// CreateContract creates a contract for tenant A through the HTTP API and
// returns the contract as GET /api/contracts/{id} shows it. Its term is
// 2026-01-01 to 2028-01-01 unless item says otherwise: a test that needs it
// active runs on BusinessDate (NewOnBusinessDate), not the wall clock's date.
func (e *Env) CreateContract(item map[string]any) map[string]any {
	e.T.Helper()
	base := map[string]any{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"}}
	for k, v := range item {
		base[k] = v
	}
	resp := e.Do("POST", "/api/contract-actions", e.A.SubmitterKey, map[string]any{
		"accountNumber": "ACC-" + uuid.NewString()[:8],
		"actions":       []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{base}}},
	})
	require.Equal(e.T, http.StatusOK, resp.Status, "create contract: %s", resp.Body)
	id := resp.JSON(e.T)["contractId"].(string)
	got := e.Do("GET", "/api/contracts/"+id, e.A.SubmitterKey, nil)
	require.Equal(e.T, http.StatusOK, got.Status)
	return got.JSON(e.T)
}
