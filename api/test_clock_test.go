package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/contractd/contractd/internal/testkit"
)

// The test clocks of issue 22: a sandbox tenant's contracts live on a clock
// that moves only when advanced, and everything due on the way happens in
// order, driven by nothing but advances.

// clockStart is where the tests' clocks start: noon, so the day's 00:05
// terms sweep and 00:30 billing run have happened on that day.
const clockStart = "2027-01-10T12:00:00Z"

// createTestClock creates a test clock of tn's at frozenTime.
func createTestClock(t *testing.T, env *testkit.Env, tn testkit.Tenant, frozenTime string) string {
	t.Helper()
	resp := env.Do("POST", "/api/test-clocks", tn.OperatorKey, map[string]any{"name": "rehearsal " + tn.Prefix, "frozenTime": frozenTime})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	clock := resp.JSON(t)
	assert.Equal(t, "ready", clock["status"])
	return clock["id"].(string)
}

// advance asks the clock to move to `to`, and returns the answer.
func advance(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID, to string) map[string]any {
	t.Helper()
	resp := env.Do("POST", "/api/test-clocks/"+clockID+"/advance", tn.OperatorKey, map[string]any{"to": to})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	clock := resp.JSON(t)
	assert.Equal(t, "advancing", clock["status"])
	return clock
}

func readClock(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID string) map[string]any {
	t.Helper()
	resp := env.Do("GET", "/api/test-clocks/"+clockID, tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)
}

// awaitReady polls the clock until its advance is over, and returns it.
func awaitReady(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID string) map[string]any {
	t.Helper()
	var clock map[string]any
	require.Eventually(t, func() bool {
		clock = readClock(t, env, tn, clockID)
		return clock["status"] == "ready"
	}, 3*time.Minute, 100*time.Millisecond, "the clock's advance did not finish")
	return clock
}

// clockContract creates a monthly Team contract of five seats on the
// clock, effective on its first day, and returns its id.
func clockContract(t *testing.T, env *testkit.Env, tn testkit.Tenant, clockID string, item map[string]any) string {
	t.Helper()
	base := map[string]any{"planId": "off_team", "effectiveDate": "2027-01-10", "expirationDate": "2028-01-10",
		"currency": []string{"USD"}, "quantities": map[string]int{"prod_seat": 5}}
	for k, v := range item {
		base[k] = v
	}
	resp := env.Do("POST", "/api/contract-actions", tn.SubmitterKey, map[string]any{
		"accountNumber": "ACC-" + uuid.NewString()[:8], "testClockId": clockID,
		"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{base}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	id := resp.JSON(t)["contractId"].(string)
	got := env.Do("GET", "/api/contracts/"+id, tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, clockID, got.JSON(t)["testClockId"], "the contract shows its clock")
	return id
}

// scheduleSeats schedules a seat count for a date on the contract.
func scheduleSeats(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string, n int, date string, status int) {
	t.Helper()
	body := seats(contractID, n)
	body["effectiveDate"] = date
	resp := change(env, tn.SubmitterKey, body)
	require.Equal(t, status, resp.Status, "%s", resp.Body)
}

// clockEvent is an event of the feed: its type and business time.
type clockEvent struct {
	Type       string
	OccurredAt time.Time
	RecordedAt time.Time
}

func (e clockEvent) String() string { return e.OccurredAt.Format(time.RFC3339) + " " + e.Type }

// clockEvents reads the tenant's event feed and keeps the contract's.
func clockEvents(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) []clockEvent {
	t.Helper()
	var out []clockEvent
	for after := 0.0; ; {
		resp := env.Do("GET", fmt.Sprintf("/api/events?after=%d&pageSize=500", int64(after)), tn.OperatorKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		page := resp.JSON(t)
		for _, raw := range page["items"].([]any) {
			e := raw.(map[string]any)
			after = e["sequence"].(float64)
			if e["contractId"] != contractID {
				continue
			}
			ev := clockEvent{Type: e["type"].(string), OccurredAt: parseTime(t, e["occurredAt"])}
			if at, ok := e["recordedAt"]; ok {
				ev.RecordedAt = parseTime(t, at)
			}
			out = append(out, ev)
		}
		if page["hasMore"] != true {
			return out
		}
	}
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, v.(string))
	require.NoError(t, err)
	return at
}

// requireInOrder checks that want appears in got in this order (other
// events may come between).
func requireInOrder(t *testing.T, got []clockEvent, want []string) {
	t.Helper()
	i := 0
	for _, e := range got {
		if i < len(want) && e.String() == want[i] {
			i++
		}
	}
	require.Equal(t, len(want), i, "events in order: found up to %d of %v in %v", i, want, got)
}

func clockInvoices(t *testing.T, env *testkit.Env, tn testkit.Tenant, contractID string) map[string]any {
	t.Helper()
	resp := env.Do("GET", "/api/contracts/"+contractID+"/invoices", tn.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)
}

// recurringPeriods lists the starts of the contract's recurring invoices.
func recurringPeriods(t *testing.T, invoices map[string]any) []string {
	t.Helper()
	var out []string
	for _, raw := range invoices["items"].([]any) {
		inv := raw.(map[string]any)
		if inv["kind"] == "RECURRING" {
			out = append(out, inv["periodStart"].(string))
		}
	}
	return out
}

// Seven months of two contracts, driven only by advances: a ramp of three
// scheduled seat changes applies on its dates, a change held by a rule
// escalates and expires after its 48 hours, every period is billed on its
// day, a declined card is retried 1, 3 and 7 days after each due date (or
// after the day it was billed, if later) and ends in arrears, and the auto-renewing contract announces its renewal
// 30 days ahead and renews at the end of its term. The event feed carries
// each event at the clock's time, in order; recordedAt is the wall time.
func TestClockRehearsesMonthsOfAContract(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	resp := env.Do("PUT", "/api/approval-rules", sb.OperatorKey, map[string]any{"rules": []any{map[string]any{
		"id": "big", "name": "Big seat changes", "when": `action == "QUANTITY_CHANGE" && quote.recurringDelta > 10000`, "expiresAfter": "48h",
	}}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	ramp := clockContract(t, env, sb, clockID, map[string]any{"expirationDate": "2027-07-10", "renewal": autoRenew(350)})
	declined := clockContract(t, env, sb, clockID, map[string]any{"paymentMethod": "pm_declined"})
	for i, date := range []string{"2027-02-10", "2027-03-10", "2027-04-10"} {
		scheduleSeats(t, env, sb, ramp, 6+i, date, http.StatusOK)
	}
	scheduleSeats(t, env, sb, ramp, 50, "2027-05-10", http.StatusAccepted)
	inbox := env.Do("GET", "/api/approvals", sb.ApproverKey, nil)
	require.Equal(t, http.StatusOK, inbox.Status, "%s", inbox.Body)
	held := inbox.JSON(t)["items"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 0, held["ageSeconds"], "held at the clock's time, which has not moved")
	// "Not in the past" is the clock's past: the wall clock's today is
	// long before the clock's, and a date between them is refused.
	scheduleSeats(t, env, sb, ramp, 9, "2027-01-09", http.StatusUnprocessableEntity)

	wall := time.Now()
	advance(t, env, sb, clockID, "2027-08-01T00:00:00Z")
	clock := awaitReady(t, env, sb, clockID)
	assert.Equal(t, "2027-08-01T00:00:00Z", clock["frozenTime"])

	got := env.Do("GET", "/api/contracts/"+ramp, sb.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "active", got["status"])
	assert.EqualValues(t, 5, got["version"], "three ramp steps and a renewal")
	assert.Equal(t, "2028-07-10", got["expirationDate"], "renewed for twelve months")
	// 8 seats × 1553 (1500 uplifted 3.5 %) + 1 TB × 518.
	assert.EqualValues(t, 8*1553+518, got["recurringAmount"])
	assert.Equal(t, []string{"2027-01-10", "2027-02-10", "2027-03-10", "2027-04-10", "2027-05-10", "2027-06-10", "2027-07-10"},
		recurringPeriods(t, clockInvoices(t, env, sb, ramp)), "each period billed once, on its day")

	events := clockEvents(t, env, sb, ramp)
	requireInOrder(t, events, []string{
		"2027-01-10T12:00:00Z contract.created",
		"2027-01-10T12:00:00Z amendment.scheduled",
		"2027-01-10T12:00:00Z amendment.review_required",
		"2027-01-11T00:30:00Z invoice.created",
		"2027-01-12T12:00:00Z amendment.expired",
		"2027-02-10T00:00:00Z amendment.applied",
		"2027-02-10T00:30:00Z invoice.created",
		"2027-03-10T00:00:00Z amendment.applied",
		"2027-04-10T00:00:00Z amendment.applied",
		"2027-06-10T00:05:00Z contract.renewal_upcoming",
		"2027-07-10T00:00:00Z contract.renewed",
		"2027-07-10T00:30:00Z invoice.created",
	})
	for i, e := range events {
		if i > 0 {
			assert.False(t, e.OccurredAt.Before(events[i-1].OccurredAt), "%v comes after %v", e, events[i-1])
		}
		assert.WithinDuration(t, wall, e.RecordedAt, 5*time.Minute, "recordedAt of %v is the wall time", e)
	}

	dunned := clockInvoices(t, env, sb, declined)
	assert.Equal(t, true, dunned["inArrears"], "every retry declined")
	first := dunned["items"].([]any)[0].(map[string]any)
	assert.Equal(t, "2027-01-10", first["periodStart"])
	var retries []string
	for _, raw := range first["attempts"].([]any) {
		a := raw.(map[string]any)
		assert.Equal(t, "DECLINED", a["outcome"])
		retries = append(retries, parseTime(t, a["at"]).Format(time.DateOnly))
	}
	// Billed the day after its due date (the clock started past that
	// day's run): its dunning began that day, and its retries are 1, 3
	// and 7 days after it, not the first at once with the billing.
	assert.Equal(t, []string{"2027-01-11", "2027-01-12", "2027-01-14", "2027-01-18"}, retries)
	requireInOrder(t, clockEvents(t, env, sb, declined), []string{
		"2027-01-11T00:30:00Z invoice.created",
		"2027-01-12T00:00:00Z payment.failed",
		"2027-01-14T00:00:00Z payment.failed",
		"2027-01-18T00:00:00Z payment.failed",
		"2027-02-10T00:30:00Z invoice.created",
		"2027-02-17T00:00:00Z payment.failed",
	})
}

// Two sandbox tenants advance their clocks at the same time: each
// contract moves with its own clock only, and neither tenant can see or
// move the other's.
func TestTwoClocksAdvanceAtOnceWithoutInterfering(t *testing.T) {
	env := testkit.New(t)
	tenants := []testkit.Tenant{env.NewSandboxTenant("SX"), env.NewSandboxTenant("SY")}
	targets := []string{"2027-03-15T00:00:00Z", "2027-05-15T00:00:00Z"}
	clocks, contracts := make([]string, 2), make([]string, 2)
	for i, tn := range tenants {
		clocks[i] = createTestClock(t, env, tn, clockStart)
		contracts[i] = clockContract(t, env, tn, clocks[i], nil)
		scheduleSeats(t, env, tn, contracts[i], 7+i, "2027-02-10", http.StatusOK)
	}
	other := env.Do("GET", "/api/test-clocks/"+clocks[1], tenants[0].OperatorKey, nil)
	assert.Equal(t, http.StatusNotFound, other.Status, "another tenant's clock: %s", other.Body)
	other = env.Do("POST", "/api/test-clocks/"+clocks[1]+"/advance", tenants[0].OperatorKey, map[string]any{"to": "2030-01-01T00:00:00Z"})
	assert.Equal(t, http.StatusNotFound, other.Status, "another tenant's clock: %s", other.Body)

	var wg sync.WaitGroup
	for i, tn := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			advance(t, env, tn, clocks[i], targets[i])
		}()
	}
	wg.Wait()
	want := [][]string{
		{"2027-01-10", "2027-02-10", "2027-03-10"},
		{"2027-01-10", "2027-02-10", "2027-03-10", "2027-04-10", "2027-05-10"},
	}
	for i, tn := range tenants {
		clock := awaitReady(t, env, tn, clocks[i])
		assert.Equal(t, targets[i], clock["frozenTime"])
		got := env.Do("GET", "/api/contracts/"+contracts[i], tn.SubmitterKey, nil).JSON(t)
		assert.EqualValues(t, 2, got["version"])
		assert.Equal(t, want[i], recurringPeriods(t, clockInvoices(t, env, tn, contracts[i])), "tenant %s", tn.Prefix)
		for _, e := range clockEvents(t, env, tn, contracts[i]) {
			assert.False(t, e.OccurredAt.After(parseTime(t, targets[i])), "%v is within %s's clock", e, tn.Prefix)
		}
	}
}

// A worker killed while a clock advances: the clock stays advancing while
// nothing runs, and once a worker is back the advance completes, having
// billed each period once and applied the scheduled change once.
func TestClockAdvanceSurvivesAWorkerRestart(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	id := clockContract(t, env, sb, clockID, nil)
	scheduleSeats(t, env, sb, id, 8, "2027-06-10", http.StatusOK)
	advance(t, env, sb, clockID, "2027-12-20T00:00:00Z")
	require.Eventually(t, func() bool {
		return parseTime(t, readClock(t, env, sb, clockID)["frozenTime"]).After(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	}, time.Minute, 20*time.Millisecond, "the advance did not get under way")
	env.StopWorker()
	stopped := readClock(t, env, sb, clockID)
	assert.Equal(t, "advancing", stopped["status"], "no worker: the advance waits")
	time.Sleep(time.Second)
	assert.Equal(t, stopped["frozenTime"], readClock(t, env, sb, clockID)["frozenTime"], "nothing moves the clock while no worker runs")
	env.StartWorker()
	clock := awaitReady(t, env, sb, clockID)
	assert.Equal(t, "2027-12-20T00:00:00Z", clock["frozenTime"])
	got := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 2, got["version"], "the change applied once")
	periods := recurringPeriods(t, clockInvoices(t, env, sb, id))
	assert.Len(t, periods, 12, "January to December, each once: %v", periods)
	assert.Equal(t, "2027-12-10", periods[len(periods)-1])
}

// Deleting a clock cancels its contracts and fails their pending changes;
// the contracts, their invoices and the clock's record stay, and the clock
// can no longer be advanced or take contracts.
func TestDeletingAClockCancelsItsContracts(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	id := clockContract(t, env, sb, clockID, map[string]any{"paymentMethod": "pm_declined"})
	scheduleSeats(t, env, sb, id, 8, "2027-06-10", http.StatusOK)
	advance(t, env, sb, clockID, "2027-02-12T00:00:00Z") // the February invoice is being dunned
	awaitReady(t, env, sb, clockID)

	resp := env.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, "deleted", resp.JSON(t)["status"])
	got := env.Do("GET", "/api/contracts/"+id, sb.SubmitterKey, nil).JSON(t)
	assert.Equal(t, "canceled", got["status"])
	assert.Equal(t, "Terminated", got["paymentSchedule"].(map[string]any)["status"])
	assert.Equal(t, []string{"2027-01-10", "2027-02-10"}, recurringPeriods(t, clockInvoices(t, env, sb, id)), "invoices stay")
	requireInOrder(t, clockEvents(t, env, sb, id), []string{
		"2027-02-12T00:00:00Z amendment.failed",
		"2027-02-12T00:00:00Z contract.canceled",
	})
	// Its workflows are stopped: none of the contract's runs on.
	require.Eventually(t, func() bool {
		list, err := env.Temporal.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("ContractId = '%s' AND ExecutionStatus = 'Running'", id),
		})
		require.NoError(t, err)
		return len(list.GetExecutions()) == 0
	}, 30*time.Second, 200*time.Millisecond, "the deleted clock's workflows still run")

	again := env.Do("POST", "/api/test-clocks/"+clockID+"/advance", sb.OperatorKey, map[string]any{"to": "2027-03-01T00:00:00Z"})
	assert.Equal(t, http.StatusConflict, again.Status, "%s", again.Body)
	assert.Equal(t, "deleted", readClock(t, env, sb, clockID)["status"], "the clock's record stays")
}

// A deletion that is not done within the wait (no worker polling) is
// answered 202 with the clock as it stands, not held: a repeat joins the
// same deletion and answers 200 once it is done.
func TestADeletionNotDoneInTimeIsAccepted(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	env.StopWorker()
	resp := impatient.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	assert.Equal(t, "ready", resp.JSON(t)["status"], "nothing is deleted while no worker polls")

	env.StartWorker()
	require.Eventually(t, func() bool {
		resp = impatient.Do("DELETE", "/api/test-clocks/"+clockID, sb.OperatorKey, nil)
		return resp.Status == http.StatusOK
	}, time.Minute, 100*time.Millisecond)
	assert.Equal(t, "deleted", resp.JSON(t)["status"])
}

// A change on the next bill cycle takes the whole period, which is billed
// on its first day: it prorates nothing, and the period is billed once, on
// the new lines; a cancellation there credits nothing for a period never
// billed. The same change made on that day once the period is billed
// charges the whole period's difference.
func TestChangeOnTheNextBillCycleIsBilledOnce(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	grown := clockContract(t, env, sb, clockID, nil)
	cancelled := clockContract(t, env, sb, clockID, nil)
	next := seats(grown, 7)
	next["relativeEffectiveDate"] = "NEXT_BILL_CYCLE"
	resp := change(env, sb.SubmitterKey, next)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.Equal(t, "2027-02-10", quote["effectiveDate"])
	assert.EqualValues(t, 0, quote["prorationTotal"], "the period is billed on the new lines")
	assert.Nil(t, quote["invoicePreview"])
	resp = change(env, sb.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": cancelled, "payload": nil, "relativeEffectiveDate": "NEXT_BILL_CYCLE"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.EqualValues(t, 0, resp.JSON(t)["quote"].(map[string]any)["prorationTotal"], "nothing billed to credit")

	advance(t, env, sb, clockID, "2027-02-10T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	totals := func(id string) map[string]float64 {
		out := map[string]float64{}
		for _, raw := range clockInvoices(t, env, sb, id)["items"].([]any) {
			inv := raw.(map[string]any)
			out[inv["kind"].(string)+" "+inv["periodStart"].(string)] += inv["total"].(float64)
		}
		return out
	}
	assert.Equal(t, map[string]float64{"RECURRING 2027-01-10": 8000, "RECURRING 2027-02-10": 11000}, totals(grown))
	assert.Equal(t, map[string]float64{"RECURRING 2027-01-10": 8000}, totals(cancelled))
	assert.Empty(t, clockInvoices(t, env, sb, cancelled)["creditNotes"])

	// February is billed by now: two more seats from today charge the
	// whole of February's difference.
	resp = change(env, sb.SubmitterKey, seats(grown, 9))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.EqualValues(t, 2*1500, resp.JSON(t)["quote"].(map[string]any)["prorationTotal"])
}

// A monthly contract changed to annual billing on its next bill cycle is
// billed, from that day, the rest of the year its cycles now count, to its
// expiration: a stub of the annual cycle that started on its effective
// date. (A probe saw the new period never invoiced: the cycle holding the
// last monthly invoice counted as billed.)
func TestAChangeToAnnualBillingBillsTheRestOfTheYear(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	id := clockContract(t, env, sb, clockID, nil)
	resp := change(env, sb.SubmitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": id, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	require.Equal(t, "2027-02-10", quote["effectiveDate"])
	annual := int64(quote["recurringAfter"].(float64))

	advance(t, env, sb, clockID, "2027-02-10T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	var got []string
	for _, raw := range clockInvoices(t, env, sb, id)["items"].([]any) {
		inv := raw.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s to %s: %.0f", inv["kind"], inv["periodStart"], inv["periodEnd"], inv["total"]))
	}
	days, year := int64(334), int64(365) // 10 February 2027 to 10 January 2028, of the cycle from 10 January
	assert.ElementsMatch(t, []string{
		"RECURRING 2027-01-10 to 2027-02-10: 8000",
		fmt.Sprintf("RECURRING 2027-02-10 to 2028-01-10: %d", (2*annual*days+year)/(2*year)),
	}, got)
}

// A charge a change raises mid-period is collected by the next day's run,
// as on the wall clock, not left to the next period's: a clock stops on a
// day when a charge is due as it does when a period is.
func TestAChargeMadeMidPeriodIsCollectedTheNextDay(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	grown := clockContract(t, env, sb, clockID, nil)
	advance(t, env, sb, clockID, "2027-01-15T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	resp := change(env, sb.SubmitterKey, seats(grown, 7))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Positive(t, resp.JSON(t)["quote"].(map[string]any)["prorationTotal"], "two seats for the rest of January")

	advance(t, env, sb, clockID, "2027-01-20T12:00:00Z")
	awaitReady(t, env, sb, clockID)
	var charges []map[string]any
	for _, raw := range clockInvoices(t, env, sb, grown)["items"].([]any) {
		if inv := raw.(map[string]any); inv["kind"] == "AMENDMENT" {
			charges = append(charges, inv)
		}
	}
	require.Len(t, charges, 1)
	assert.Equal(t, "PAID", charges[0]["status"], "%v", charges[0])
	attempts, _ := charges[0]["attempts"].([]any)
	require.Len(t, attempts, 1)
	assert.Equal(t, "2027-01-16T00:30:00Z", attempts[0].(map[string]any)["at"], "collected by the run of the day after the change")
}
