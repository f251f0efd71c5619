package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A step that can never succeed (here: Postgres refusing a value, injected by
// the test kit on every attempt of one activity call) must end its workflow
// and answer its caller, never leave either waiting. patience is how long a
// caller waits before the test counts it as hung: a failure signal, not a
// measure of speed.
const patience = 20 * time.Second

// answered sends a request like env.Do, failing the test if no answer comes.
func answered(t *testing.T, env *testkit.Env, method, path, key string, body any, headers ...string) testkit.Response {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	if body == nil {
		raw = nil
	}
	req, err := http.NewRequest(method, env.HTTP.URL+path, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Timeout: patience}).Do(req)
	require.NoError(t, err, "%s %s: the caller got no answer", method, path)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: got}
}

// ended waits until the workflows the visibility query matches have all
// closed (failing the test if one is still running after patience) and
// returns their statuses.
func ended(t *testing.T, env *testkit.Env, query string) []enumspb.WorkflowExecutionStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		list, err := env.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("TaskQueue = '%s' AND %s", env.TaskQueue, query),
		})
		require.NoError(t, err)
		var statuses []enumspb.WorkflowExecutionStatus
		running := false
		for _, ex := range list.GetExecutions() {
			statuses = append(statuses, ex.GetStatus())
			running = running || ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}
		if len(statuses) > 0 && !running {
			return statuses
		}
		select {
		case <-ctx.Done():
			t.Fatalf("workflows matching %q still running (or not listed): %v", query, statuses)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func amendmentWorkflowsOf(contractID string) string {
	return fmt.Sprintf("WorkflowType = 'AmendmentWorkflow' AND ContractId = '%s'", contractID)
}

// requireNoSQL checks a 500's body says nothing of the cause.
func requireNoSQL(t *testing.T, resp testkit.Response) {
	t.Helper()
	for _, leak := range []string{"pq:", "0x00", "UTF8", "SQL", "injected"} {
		assert.NotContains(t, string(resp.Body), leak)
	}
}

// amendmentStatus is what Postgres says of an amendment.
func amendmentStatus(t *testing.T, env *testkit.Env, id string) string {
	t.Helper()
	got := env.Do("GET", "/api/amendments/"+id, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
	return got.JSON(t)["status"].(string)
}

// requireFreeForChanges checks nothing open is left on the contract: it
// takes a change of seats on its offering.
func requireFreeForChanges(t *testing.T, env *testkit.Env, contractID string) {
	t.Helper()
	ct := env.Do("GET", "/api/contracts/"+contractID, env.A.SubmitterKey, nil).JSON(t)
	body := seats(contractID, 7)
	offering := ct["lines"].([]any)[0].(map[string]any)["offeringId"]
	body["payload"].(map[string]any)["offerings"].([]any)[0].(map[string]any)["offeringId"] = offering
	next := answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, body)
	require.Equal(t, http.StatusOK, next.Status, "the contract is stuck: %s", next.Body)
}

// heldForReview submits a change the submitter asks to have reviewed.
func heldForReview(t *testing.T, env *testkit.Env, contractID string) string {
	t.Helper()
	body := seats(contractID, 6)
	body["requireApproval"] = true
	resp := answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, body)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)["id"].(string)
}

func TestPermanentFailureWhileOpeningAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)

	env.Faults.FailNext("OpenAmendment")
	resp := answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, seats(id, 6))
	require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
	assert.Equal(t, "FAILED", resp.JSON(t)["status"], "in the self-service format")
	assert.NotEmpty(t, resp.JSON(t)["errorMessage"])
	requireNoSQL(t, resp)

	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, amendmentWorkflowsOf(id)))
	list := env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil).JSON(t)
	assert.Empty(t, list["items"], "nothing was stored")
	requireFreeForChanges(t, env, id)

	// The crossgrade surface answers in its own format.
	other := fiveSeats(env, nil)
	env.Faults.FailNext("OpenAmendment")
	cg := answered(t, env, "POST", crossgradePath(other), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"})
	requireFault(t, cg, http.StatusInternalServerError, 90061, "SystemFailureFault")
	requireNoSQL(t, cg)
	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, amendmentWorkflowsOf(other["id"].(string))))
}

// Each decision or withdrawal whose step fails for good answers its caller
// 500, leaves the amendment FAILED (terminal, as its failed workflow) and
// the contract open to other changes.
func TestPermanentFailureOfADecisionAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	cases := []struct {
		name, step, update, key string
		scheduled               bool
	}{
		{name: "approve accepts it", step: "ApproveAmendment", update: "approve", key: env.A.ApproverKey},
		{name: "approve applies", step: "ApplyAmendment", update: "approve", key: env.A.ApproverKey},
		{name: "reject transitions", step: "TransitionAmendment", update: "reject", key: env.A.ApproverKey},
		{name: "withdraw in review transitions", step: "TransitionAmendment", update: "withdraw", key: env.A.SubmitterKey},
		{name: "withdraw while scheduled transitions", step: "TransitionAmendment", update: "withdraw", key: env.A.SubmitterKey, scheduled: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := fiveSeats(env, nil)
			id := ct["id"].(string)
			var amendment string
			if tc.scheduled {
				amendment = scheduledRateChange(t, env, id)
			} else {
				amendment = heldForReview(t, env, id)
			}

			env.Faults.FailNext(tc.step)
			resp := answered(t, env, "POST", "/api/amendments/"+amendment+"/"+tc.update, tc.key, map[string]any{})
			require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
			assert.Equal(t, "Internal Server Error", resp.JSON(t)["code"])
			requireNoSQL(t, resp)

			assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, amendmentWorkflowsOf(id)))
			assert.Equal(t, "FAILED", amendmentStatus(t, env, amendment), "Postgres agrees the amendment ended")
			assert.EqualValues(t, 1, env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)["version"], "nothing applied")
			requireFreeForChanges(t, env, id)
		})
	}
}

func scheduledRateChange(t *testing.T, env *testkit.Env, contractID string) string {
	t.Helper()
	resp := answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": contractID, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)["id"].(string)
}

// A crossgrade paid up front: a failure for good in any payment step still
// answers the caller and ends the workflow, and every authorisation that
// can be settled is.
func TestPermanentFailureOfAPaidCrossgradeAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	cases := []struct {
		name      string
		steps     []string
		status    int    // the caller's answer
		amendment string // as Postgres ends up
		workflow  enumspb.WorkflowExecutionStatus
		ledger    map[string]int
	}{
		// The provider is unreachable for good: a payment system fault, as for an outage.
		{"authorise", []string{"AuthorisePayment"}, http.StatusInternalServerError, "FAILED", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, map[string]int{}},
		{"apply, voiding the payment", []string{"ApplyAmendment"}, http.StatusInternalServerError, "FAILED", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, map[string]int{"AUTHORISE": 1, "VOID": 1}},
		{"void", []string{"ApplyAmendment", "VoidPayment"}, http.StatusInternalServerError, "FAILED", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, map[string]int{"AUTHORISE": 1}},
		// The change was made: the caller is told so (a retry must not make
		// it again); the failed workflow shows operators the uncaptured payment.
		{"capture", []string{"CapturePayment"}, http.StatusOK, "APPLIED", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, map[string]int{"AUTHORISE": 1}},
	}
	// A void or capture that fails for good leaves its authorisation
	// unsettled: the failed workflow shows it to an operator, who settles it.
	env.BreaksOnPurpose("authorisation settled exactly once")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := fiveSeats(env, nil)
			id := ct["id"].(string)
			for _, step := range tc.steps {
				env.Faults.FailNext(step)
			}
			resp := answered(t, env, "POST", crossgradePath(ct), env.A.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"})
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			requireNoSQL(t, resp)

			assert.Equal(t, []enumspb.WorkflowExecutionStatus{tc.workflow}, ended(t, env, amendmentWorkflowsOf(id)))
			items := env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil).JSON(t)["items"].([]any)
			require.Len(t, items, 1)
			amendment := items[0].(map[string]any)["id"].(string)
			assert.Equal(t, tc.amendment, amendmentStatus(t, env, amendment), "Postgres agrees")
			assert.Equal(t, tc.ledger, ledger(t, env, amendment))
			requireFreeForChanges(t, env, id)
		})
	}
}

func TestPermanentFailureOfAScheduleChangeAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	path := schedulePath(env.A.Prefix, id, "cancelSchedule")

	env.Faults.FailNext("ChangeSchedule")
	resp := answered(t, env, "POST", path, env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
	requireNoSQL(t, resp)
	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED},
		ended(t, env, fmt.Sprintf("WorkflowType = 'ScheduleChangeWorkflow' AND ContractId = '%s'", id)))
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"], "Postgres agrees nothing changed")

	again := answered(t, env, "POST", path, env.A.SubmitterKey, nil)
	assert.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
}

func TestPermanentFailureOfAContractActionAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	body := map[string]any{
		"accountNumber": "ACC-PERMANENT",
		"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
			"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"},
		}}}},
	}
	env.Faults.FailNext("CreateContracts")
	resp := answered(t, env, "POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "permanent-1")
	require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
	assert.Equal(t, "Internal Server Error", resp.JSON(t)["code"])
	requireNoSQL(t, resp)
	statuses := ended(t, env, fmt.Sprintf("WorkflowType = 'ContractActionWorkflow' AND TenantId = '%s'", env.A.ID))
	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, statuses)
	assert.Zero(t, env.CountRows("contracts"), "Postgres agrees nothing was created")

	// A retry with the same key starts afresh and succeeds.
	again := answered(t, env, "POST", "/api/contract-actions", env.A.SubmitterKey, body, "Idempotency-Key", "permanent-1")
	assert.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
}

// Billing answers its operator and ends; a later run bills what this one did not.
func TestPermanentFailureOfABillingRunAnswersAndEnds(t *testing.T) {
	env := newAmendmentEnv(t)
	fiveSeats(env, nil)
	env.Faults.FailNext("InvoiceDuePeriods")
	resp := answered(t, env, "POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": "2026-03-01"})
	require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
	requireNoSQL(t, resp)
	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED},
		ended(t, env, "WorkflowType = 'BillingRunWorkflow'"))

	again := answered(t, env, "POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": "2026-03-01"})
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	var totals billingTotals
	again.Decode(t, &totals)
	assert.Positive(t, totals.Invoiced)
}

// The values the attack found, sent for real: whether the API refuses them
// up front (400) or they reach Postgres (which refuses them: 500), the
// caller gets an answer and nothing is left stranded.
func TestValuesPostgresRefusesNeverStrandAChange(t *testing.T) {
	env := newAmendmentEnv(t)

	t.Run("a NUL byte in an approver's comment", func(t *testing.T) {
		ct := fiveSeats(env, nil)
		amendment := heldForReview(t, env, ct["id"].(string))
		resp := answered(t, env, "POST", "/api/amendments/"+amendment+"/approve", env.A.ApproverKey, map[string]any{"comment": "ok\x00"})
		t.Logf("answered %d", resp.Status)
		requireNoSQL(t, resp)
		if resp.Status == http.StatusBadRequest {
			// Refused before the workflow: still decidable.
			again := answered(t, env, "POST", "/api/amendments/"+amendment+"/approve", env.A.ApproverKey, map[string]any{"comment": "ok"})
			require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
			return
		}
		require.Equal(t, http.StatusInternalServerError, resp.Status, "%s", resp.Body)
		assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, amendmentWorkflowsOf(ct["id"].(string))))
		assert.Equal(t, "FAILED", amendmentStatus(t, env, amendment), "terminal, not REVIEW behind a dead workflow")
		requireFreeForChanges(t, env, ct["id"].(string))
	})

	opening := map[string]func(contractID string) testkit.Response{
		"an Idempotency-Key over Postgres's index row limit": func(contractID string) testkit.Response {
			return answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, seats(contractID, 6),
				"Idempotency-Key", incompressible(3000))
		},
		"a duplicated action whose first value holds a NUL": func(contractID string) testkit.Response {
			body := fmt.Sprintf(`{"action":"QUANTITY_CHANGE\u0000","action":"QUANTITY_CHANGE","contractId":%q,`+
				`"payload":{"offerings":[{"offeringId":"off_team","products":[{"productId":"prod_seat","quantity":6}]}]}}`, contractID)
			return answered(t, env, "POST", "/api/selfService/contract", env.A.SubmitterKey, json.RawMessage(body))
		},
	}
	for name, send := range opening {
		t.Run(name, func(t *testing.T) {
			ct := fiveSeats(env, nil)
			id := ct["id"].(string)
			resp := send(id)
			t.Logf("answered %d", resp.Status)
			requireNoSQL(t, resp)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusInternalServerError}, resp.Status, "%s", resp.Body)
			if resp.Status == http.StatusInternalServerError {
				assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, amendmentWorkflowsOf(id)))
			}
			list := env.Do("GET", "/api/contracts/"+id+"/amendments", env.A.SubmitterKey, nil).JSON(t)
			assert.Empty(t, list["items"], "nothing was stored")
			requireFreeForChanges(t, env, id)
		})
	}
}

// incompressible is 4/3 n characters Postgres cannot shrink below its index
// row limit.
func incompressible(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// A webhook lane workflow that fails for good ends (it does not wait on
// nothing); the next event in its lane starts it again, and it delivers
// what the failed run did not.
func TestPermanentFailureOfAWebhookDeliveryEndsAndResumes(t *testing.T) {
	env := newAmendmentEnv(t)
	rcv := newReceiver(t)
	subscribe(t, env, rcv, "contract.created", "schedule.canceled")
	env.Faults.FailNext("DeliverWebhooks")
	id := fiveSeats(env, nil)["id"].(string)
	lanes := fmt.Sprintf("WorkflowType = '%s' AND TenantId = '%s'", flow.WebhookLaneWorkflow, env.A.ID)
	assert.Equal(t, []enumspb.WorkflowExecutionStatus{enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}, ended(t, env, lanes))

	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	got := rcv.waitForEvents(t, 2)
	assert.Equal(t, []string{"contract.created", "schedule.canceled"}, typesOf(got, id), "both, in order")
}
