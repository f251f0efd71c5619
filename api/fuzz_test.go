package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/testdb"
	"github.com/contractd/contractd/internal/webhooks"
)

// Each surface's body is fuzzed through the real router, with a real
// database, Temporal server and worker behind it. Whatever the bytes, the
// answer must come within fuzzTimeout and be no 5xx, and a refusal (4xx)
// must have stored nothing: the tables a request could write to hold the
// same rows before and after it.

const fuzzTimeout = 30 * time.Second

// fuzzToday is the business date the fuzzed service runs on.
var fuzzToday = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

// fuzzTables are what any request could write.
var fuzzTables = []string{"contracts", "contract_segments", "amendments", "contract_terminations",
	"contract_termination_period_charges", "webhook_subscriptions", "approval_rules", "invoices", "outbox_events"}

type fuzzService struct {
	router   http.Handler
	store    *store.Store
	key      string
	contract map[string]any
}

// newFuzzService boots the service for a fuzz target: one tenant with the
// demo catalog and every role, termination 1 and one contract to change.
func newFuzzService(f *testing.F) *fuzzService {
	ctx := context.Background()
	s := testdb.Migrated(f)
	key, err := auth.NewKey("FZ")
	require.NoError(f, err)
	tenant, err := s.CreateTenant(ctx, store.Tenant{Prefix: "FZ", Name: "Fuzz"},
		[]store.NewKey{{Key: key, ActorID: uuid.NewString(), Roles: auth.AllRoles}})
	require.NoError(f, err)
	_, err = s.PutCatalog(ctx, tenant.ID, uuid.NewString(), demo.Catalog(), time.Now())
	require.NoError(f, err)

	_, temporal := testkit.Temporal(f)
	svc := &app.Service{
		Store: s, Temporal: temporal, TaskQueue: "fuzz-" + uuid.NewString()[:8], Logger: quiet,
		Now: func() time.Time { return fuzzToday }, Webhooks: webhooks.Config{AllowInsecure: true}, UpdateKey: testkit.UpdateKey,
	}
	w := svc.NewWorker()
	require.NoError(f, w.Start())
	f.Cleanup(w.Stop)
	fs := &fuzzService{store: s, key: key, router: svc.Router()}
	code, body := fs.send(http.MethodPost, "/api/v5/Contract/Termination", []byte(`{"penaltyServiceId": 1, "name": "Fee"}`))
	require.Equal(f, http.StatusOK, code, "%s", body)
	code, body = fs.send(http.MethodPost, "/api/contract-actions", []byte(`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan",
		"createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": ["USD"], "quantities": {"prod_seat": 5}}]}]}`))
	require.Equal(f, http.StatusOK, code, "%s", body)
	var created struct {
		ContractID string `json:"contractId"`
	}
	require.NoError(f, json.Unmarshal(body, &created))
	code, body = fs.send(http.MethodGet, "/api/contracts/"+created.ContractID, nil)
	require.Equal(f, http.StatusOK, code, "%s", body)
	require.NoError(f, json.Unmarshal(body, &fs.contract))
	return fs
}

func (fs *fuzzService) send(method, path string, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+fs.key)
	rec := httptest.NewRecorder()
	fs.router.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func (fs *fuzzService) rowCounts(t *testing.T) map[string]int {
	counts := map[string]int{}
	for _, table := range fuzzTables {
		var n int
		require.NoError(t, fs.store.DB().Get(&n, "SELECT count(*) FROM "+table))
		counts[table] = n
	}
	return counts
}

// fuzzRoute sends each input as the body of method path(fs) and checks the
// answer and what was stored.
func fuzzRoute(f *testing.F, method string, path func(*fuzzService) string, seeds []string) {
	fs := newFuzzService(f)
	for _, s := range append(seeds, hostileSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := fs.rowCounts(t)
		start := time.Now()
		code, answer := fs.send(method, path(fs), body)
		if code >= 500 || time.Since(start) >= fuzzTimeout {
			t.Fatalf("answered %d after %v: %s", code, time.Since(start), answer)
		}
		if code >= 400 {
			require.Equal(t, before, fs.rowCounts(t), "a refusal (%d %s) stored nothing", code, answer)
		}
	})
}

// hostileSeeds go to every target: duplicated keys, NUL, invalid UTF-8,
// numbers past int64, the zero date.
var hostileSeeds = []string{
	`{"action": "CANCELLATION\u0000", "action": "CANCELLATION", "payload": null}`,
	"{\"name\": \"\xff\"}",
	`{"quantity": 9223372036854775808, "effectiveDate": "0001-01-01", "asOf": "9999-12-31"}`,
	`null`, `[]`, `"x"`, ``,
}

func FuzzContractActionsBody(f *testing.F) {
	fuzzRoute(f, http.MethodPost, func(*fuzzService) string { return "/api/contract-actions" }, []string{
		`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": ["USD"], "quantities": {"prod_seat": 5}}]}]}`,
		`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-02-30", "currency": ["EUR", "USD"], "billingCycleDay": 31, "rateId": "x", "contractTerminationId": -1}]}]}`,
		`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2000-01-01", "expirationDate": "9999-12-31", "currency": ["USD"], "paymentMethod": "x y"}]}]}`,
		`{"accountNumber": "", "actions": []}`,
		`{"actions": null}`,
	})
}

func FuzzSelfServiceBody(f *testing.F) {
	fuzzRoute(f, http.MethodPost, func(*fuzzService) string { return "/api/selfService/contract" }, []string{
		`{"action": "QUANTITY_CHANGE", "contractId": "CT-0000000001", "payload": {"offerings": [{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": 11}]}]}}`,
		`{"action": "RATE_CHANGE", "contractId": "CT-0000000001", "relativeEffectiveDate": "NEXT_BILL_CYCLE", "payload": {"offerings": [{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}]}}`,
		`{"action": "CANCELLATION", "contractId": "1", "payload": null, "effectiveDate": "2026-13-01", "requireApproval": true}`,
		`{"action": "ADD_OFFERING", "contractId": "x", "payload": {"offerings": [{}]}}`,
	})
}

func FuzzCrossgradeBody(f *testing.F) {
	fuzzRoute(f, http.MethodPost, func(fs *fuzzService) string {
		return fmt.Sprintf("/api/customers/%s/contracts/%v/crossgrade", fs.contract["customerId"], formatRef(fs.contract["ref"]))
	}, []string{
		`{"salesItemCode": "BUSINESS-M", "referrer": "spring-campaign", "discountCode": {"code": "WELCOME10"}}`,
		`{"salesItemCode": "TEAM-A", "downgradeImmediately": true, "viewingCardNumber": "123456789"}`,
		`{"discountCode": null}`,
	})
}

func FuzzTerminationPatchBody(f *testing.F) {
	fuzzRoute(f, http.MethodPatch, func(*fuzzService) string { return "/api/v5/Contract/Termination/1" }, []string{
		`{"details": {}, "contractTerminationPeriodCharges": {"items": [{"patchType": "create", "patchClientId": 1, "startMonth": 0, "endMonth": 12, "amount": 10000, "currency": "USD"}, {"patchType": "update", "patchClientId": 2, "identity": 7, "startMonth": 13, "endMonth": 24, "amount": 25000, "currency": "USD"}]}}`,
		`{"contractTerminations": {"items": [{"patchType": "delete", "patchClientId": 1, "identity": 1}, {"patchType": "create", "patchClientId": 1, "penaltyServiceId": 1, "name": "x"}]}}`,
		`{"details": {}}`,
	})
}

func FuzzCatalogDocument(f *testing.F) {
	seed, err := json.Marshal(demo.Catalog())
	require.NoError(f, err)
	fuzzRoute(f, http.MethodPut, func(*fuzzService) string { return "/api/catalog" }, []string{
		string(seed),
		`{"products": [{"id": "p", "name": "P"}], "offerings": [{"id": "o", "name": "O", "products": [{"productId": "p", "minQuantity": 3, "maxQuantity": 1}], "rates": [{"id": "r", "currency": "usd", "billingPeriod": "WEEKLY", "unitPrices": {"q": -1}}]}], "salesItems": [{"code": "S", "offeringId": "o", "rateId": "nope"}], "crossgradePaths": [{}], "discountCodes": [{}], "viewingCards": [{}], "penaltyServices": [{"id": 0}]}`,
		`{}`,
	})
}
