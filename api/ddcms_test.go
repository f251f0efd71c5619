package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

const (
	scheduleCancelled = "Contract schedule was cancelled successfully."
	scheduleRestarted = "Contract schedule was restarted successfully."
	scheduleNotFound  = "Contract with the specified ID does not exist."
)

func schedulePath(prefix, contractID, action string) string {
	return "/api/v3/client/" + prefix + "/contract/" + contractID + "/" + action
}

// scheduleCall sends a DDCMS request authenticated the seed's way, with the
// apiKey header.
func scheduleCall(env *testkit.Env, path, key string) testkit.Response {
	env.T.Helper()
	return env.Do("POST", path, "", nil, "apiKey", key)
}

func requirePlain(t *testing.T, resp testkit.Response, status int, body string) {
	t.Helper()
	require.Equal(t, status, resp.Status, "body: %s", resp.Body)
	assert.Equal(t, body, string(resp.Body))
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
}

func scheduleOf(t *testing.T, env *testkit.Env, contractID string) map[string]any {
	t.Helper()
	got := env.Do("GET", "/api/contracts/"+contractID, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	return got.JSON(t)["paymentSchedule"].(map[string]any)
}

func TestScheduleCancelAndRestart(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	ct := env.CreateContract(nil)
	id := ct["id"].(string)

	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusBadRequest,
		"The contract schedule is already Terminated; only an Active schedule can be cancelled.")
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"])

	restart := schedulePath(env.A.Prefix, id, "restartSchedule") + "?comment=" + url.QueryEscape("paid by bank transfer")
	requirePlain(t, scheduleCall(env, restart, env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	requirePlain(t, scheduleCall(env, restart, env.A.SubmitterKey), http.StatusBadRequest,
		"The contract schedule is already Active; only a Terminated schedule can be restarted.")

	// A bearer token works as well as the apiKey header.
	viaBearer := env.Do("POST", schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey, nil)
	requirePlain(t, viaBearer, http.StatusOK, scheduleCancelled)

	got := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	sched := got["paymentSchedule"].(map[string]any)
	assert.Equal(t, "Terminated", sched["status"])
	history := sched["history"].([]any)
	require.Len(t, history, 4)
	var statuses []any
	for _, h := range history {
		ev := h.(map[string]any)
		statuses = append(statuses, ev["status"])
		assert.Equal(t, env.A.SubmitterActor, ev["actorId"])
		assert.Equal(t, "USER", ev["source"])
		assert.NotEmpty(t, ev["at"])
	}
	assert.Equal(t, []any{"Active", "Terminated", "Active", "Terminated"}, statuses)
	assert.Nil(t, history[1].(map[string]any)["comment"])
	assert.Equal(t, "paid by bank transfer", history[2].(map[string]any)["comment"])
	// Only the schedule changed.
	assert.Equal(t, ct["version"], got["version"])
	assert.Equal(t, ct["updatedOn"], got["updatedOn"])
}

func TestScheduleErrorResponses(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	id := env.CreateContract(nil)["id"].(string)
	protected := env.CreateContract(map[string]any{"protected": true})["id"].(string)
	cancel := func(prefix, contractID string) string { return schedulePath(prefix, contractID, "cancelSchedule") }

	cases := []struct {
		name   string
		path   string
		key    string
		status int
		body   string
	}{
		{"no key", cancel(env.A.Prefix, id), "", http.StatusUnauthorized, "an API key is required (Authorization: Bearer <key> or apiKey: <key>)"},
		{"unknown key", cancel(env.A.Prefix, id), "ck_nope_123", http.StatusUnauthorized, "the API key is not valid"},
		{"operator key", cancel(env.A.Prefix, id), env.A.OperatorKey, http.StatusForbidden, "this key lacks the submitter role"},
		{"another client's prefix", cancel(env.B.Prefix, id), env.A.SubmitterKey, http.StatusNotFound, scheduleNotFound},
		{"unknown prefix", cancel("NOPE", id), env.A.SubmitterKey, http.StatusNotFound, scheduleNotFound},
		{"malformed GUID", cancel(env.A.Prefix, "12345"), env.A.SubmitterKey, http.StatusNotFound, scheduleNotFound},
		{"unknown contract", cancel(env.A.Prefix, uuid.NewString()), env.A.SubmitterKey, http.StatusNotFound, scheduleNotFound},
		{"another tenant's contract", cancel(env.B.Prefix, id), env.B.SubmitterKey, http.StatusNotFound, scheduleNotFound},
		{"protected contract", cancel(env.A.Prefix, protected), env.A.SubmitterKey, http.StatusForbidden, "This contract cannot be used in API."},
		{"protected restart", schedulePath(env.A.Prefix, protected, "restartSchedule"), env.A.SubmitterKey, http.StatusForbidden, "This contract cannot be used in API."},
		{"comment too long", schedulePath(env.A.Prefix, id, "restartSchedule") + "?comment=" + strings.Repeat("x", 1001), env.A.SubmitterKey,
			http.StatusBadRequest, "query parameter comment must not be longer than 1000 characters (it has 1001)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requirePlain(t, scheduleCall(env, tc.path, tc.key), tc.status, tc.body)
		})
	}
	// The prefix matches whatever its case.
	requirePlain(t, scheduleCall(env, cancel(strings.ToLower(env.A.Prefix), id), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	assert.Len(t, scheduleOf(t, env, protected)["history"], 1, "a refused change records nothing")
}

// unencodable fails to encode anything.
type unencodable struct{ converter.DataConverter }

func (unencodable) ToPayloads(...any) (*commonpb.Payloads, error) {
	return nil, errors.New("cannot encode")
}

// A client that cannot encode the workflow's input fails in a way no caller
// can fix: the seed's 500, with nothing internal leaked.
func TestScheduleUnexpectedErrorIs500(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	id := env.CreateContract(nil)["id"].(string)
	srv, _ := testkit.Temporal(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	broken := srv.NewClientWithOptions(client.Options{
		DataConverter: unencodable{converter.GetDefaultDataConverter()}, Logger: sdklog.NewStructuredLogger(quiet),
	})
	h := httptest.NewServer(api.NewRouter(api.Deps{Store: env.Store, Temporal: flow.NewClient(broken, env.TaskQueue, nil), Logger: quiet}))
	t.Cleanup(h.Close)

	req, err := http.NewRequestWithContext(context.Background(), "POST", h.URL+schedulePath(env.A.Prefix, id, "cancelSchedule"), nil)
	require.NoError(t, err)
	req.Header.Set("apiKey", env.A.SubmitterKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "An unexpected error occurred while processing the request.", string(body))
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"])
}

func TestScheduleConcurrentCancelsSerialise(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	id := env.CreateContract(nil)["id"].(string)
	target := env.HTTP.URL + schedulePath(env.A.Prefix, id, "cancelSchedule")

	statuses := make([]int, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i], errs[i] = postWithAPIKey(target, env.A.SubmitterKey) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	sort.Ints(statuses)
	assert.Equal(t, []int{http.StatusOK, http.StatusBadRequest}, statuses)

	schedule := scheduleOf(t, env, id)
	history := schedule["history"].([]any)
	require.Len(t, history, 2)
	assert.EqualValues(t, 2, schedule["historyCount"], "one cancel made")
	assert.Equal(t, "Terminated", history[1].(map[string]any)["status"])
}

// postWithAPIKey is safe to call from a goroutine: it reports instead of failing the test.
func postWithAPIKey(target, key string) (int, error) {
	req, err := http.NewRequest("POST", target, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("apiKey", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// A schedule change whose workflow does not answer within AMENDMENT_WAIT
// (no worker polls here: an overloaded worker, made certain) is answered 202
// in plain text, as the OpenAPI document describes, with the contract to
// follow in Location; unbounded, the request was held until the client gave
// up. With an Idempotency-Key a repeat joins the same workflow and, once a
// worker takes it, answers the seed's 200; without one the answer says not
// to send it again. Each schedule is changed once, by one workflow.
func TestAScheduleChangeNotAnsweredInTimeIsAcceptedAndMadeOnce(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.NewOnBusinessDate(t)
	keyed, keyless := env.CreateContract(nil)["id"].(string), env.CreateContract(nil)["id"].(string)
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	documented := &conformance{t: t, env: impatient, router: router}
	env.StopWorker()
	cancel := schedulePath(env.A.Prefix, keyed, "cancelSchedule")

	first := answered(t, impatient, "POST", cancel, env.A.SubmitterKey, nil, "Idempotency-Key", "cancel-1")
	require.Equal(t, http.StatusAccepted, first.Status, "%s", first.Body)
	again := documented.do("POST", cancel, env.A.SubmitterKey, nil, http.StatusAccepted, "Idempotency-Key", "cancel-1")
	assert.Equal(t, string(first.Body), string(again.Body))
	assert.Contains(t, string(again.Body), "same Idempotency-Key")
	assert.True(t, strings.HasPrefix(again.Header.Get("Content-Type"), "text/plain"), again.Header.Get("Content-Type"))
	assert.Equal(t, "/api/contracts/"+keyed, again.Header.Get("Location"))
	assert.Equal(t, "1", again.Header.Get("Retry-After"))

	unkeyed := documented.do("POST", schedulePath(env.A.Prefix, keyless, "cancelSchedule"), env.A.SubmitterKey, nil, http.StatusAccepted)
	assert.Contains(t, string(unkeyed.Body), "do not send the request again")
	assert.Equal(t, "/api/contracts/"+keyless, unkeyed.Header.Get("Location"))
	assert.Empty(t, unkeyed.Header.Get("Retry-After"), "a repeat without a key would be a second change")
	assert.Equal(t, "Active", scheduleOf(t, env, keyed)["status"], "nothing changes while no worker polls")

	env.StartWorker()
	var done testkit.Response
	require.Eventually(t, func() bool {
		done = impatient.Do("POST", cancel, env.A.SubmitterKey, nil, "Idempotency-Key", "cancel-1")
		return done.Status != http.StatusAccepted
	}, time.Minute, 100*time.Millisecond)
	requirePlain(t, done, http.StatusOK, scheduleCancelled)
	for _, id := range []string{keyed, keyless} {
		require.Eventually(t, func() bool { return scheduleOf(t, env, id)["status"] == "Terminated" }, time.Minute, 100*time.Millisecond)
		assert.Len(t, scheduleOf(t, env, id)["history"], 2, "cancelled once")
		assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
			ended(t, env, fmt.Sprintf("WorkflowType = 'ScheduleChangeWorkflow' AND ContractId = '%s'", id)), "one workflow")
	}
}
