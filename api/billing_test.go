package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

type billingTotals struct {
	AsOf      string `json:"asOf"`
	Invoiced  int    `json:"invoiced"`
	Collected int    `json:"collected"`
	Declined  int    `json:"declined"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
}

func runBilling(t *testing.T, env *testkit.Env, asOf string) billingTotals {
	t.Helper()
	resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": asOf})
	require.Equal(t, http.StatusOK, resp.Status, "billing run: %s", resp.Body)
	var totals billingTotals
	resp.Decode(t, &totals)
	assert.Equal(t, asOf, totals.AsOf)
	return totals
}

type invoiceList struct {
	ContractID     string `json:"contractId"`
	ScheduleStatus string `json:"scheduleStatus"`
	InArrears      bool   `json:"inArrears"`
	Items          []struct {
		Kind        string `json:"kind"`
		PeriodStart string `json:"periodStart"`
		PeriodEnd   string `json:"periodEnd"`
		Currency    string `json:"currency"`
		Total       int64  `json:"total"`
		Status      string `json:"status"`
		Lines       []struct {
			Description string `json:"description"`
			Amount      int64  `json:"amount"`
		} `json:"lines"`
		Attempts []struct {
			Attempt   int    `json:"attempt"`
			Outcome   string `json:"outcome"`
			Reason    string `json:"reason"`
			PaymentID string `json:"paymentId"`
		} `json:"attempts"`
	} `json:"items"`
}

func invoicesOf(t *testing.T, env *testkit.Env, contractID string) invoiceList {
	t.Helper()
	resp := env.Do("GET", "/api/contracts/"+contractID+"/invoices", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var list invoiceList
	resp.Decode(t, &list)
	return list
}

func periodStarts(list invoiceList) []string {
	starts := []string{}
	for _, inv := range list.Items {
		starts = append(starts, inv.PeriodStart)
	}
	return starts
}

// requireSettledOnce proves from the sandbox's ledger that every approved
// authorisation was captured or voided exactly once, and returns how many
// captures it holds.
func requireSettledOnce(t *testing.T, env *testkit.Env) int {
	t.Helper()
	var unsettled, captures int
	require.NoError(t, env.Store.DB().Get(&unsettled, `
		SELECT count(*) FROM sandbox_ledger a WHERE a.operation = 'AUTHORISE' AND a.approved
		AND (SELECT count(*) FROM sandbox_ledger s WHERE s.parent_id = a.id AND s.operation IN ('CAPTURE', 'VOID')) <> 1`))
	assert.Zero(t, unsettled, "approved authorisations not settled exactly once")
	require.NoError(t, env.Store.DB().Get(&captures, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	return captures
}

func TestBillingRunBillsEachPeriodOnce(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})
	id := ct["id"].(string)

	first := runBilling(t, env, "2026-03-01")
	assert.Equal(t, billingTotals{AsOf: "2026-03-01", Invoiced: 3, Collected: 3}, first)
	assert.Equal(t, billingTotals{AsOf: "2026-03-01"}, runBilling(t, env, "2026-03-01"), "a second run bills nothing")
	assert.Equal(t, billingTotals{AsOf: "2026-03-10"}, runBilling(t, env, "2026-03-10"), "the next period starts on April 1")

	list := invoicesOf(t, env, id)
	assert.Equal(t, "Active", list.ScheduleStatus)
	assert.False(t, list.InArrears)
	require.Equal(t, []string{"2026-01-01", "2026-02-01", "2026-03-01"}, periodStarts(list))
	for _, inv := range list.Items {
		assert.Equal(t, "RECURRING", inv.Kind)
		assert.Equal(t, "PAID", inv.Status)
		assert.Equal(t, "USD", inv.Currency)
		assert.EqualValues(t, ct["recurringAmount"], inv.Total)
		require.Len(t, inv.Attempts, 1)
		assert.Equal(t, "COLLECTED", inv.Attempts[0].Outcome)
		assert.NotEmpty(t, inv.Attempts[0].PaymentID)
	}
	assert.Equal(t, "2026-02-01", list.Items[0].PeriodEnd, "periods end where the next starts")
	assert.Equal(t, "off_team, 2026-01-01 to 2026-01-31", list.Items[0].Lines[0].Description)
	assert.Equal(t, 3, env.CountRows("invoices"))
	assert.Equal(t, 3, requireSettledOnce(t, env))

	// Invoices are the tenant's own; the contract's number works as well as its id.
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/contracts/"+id+"/invoices", env.B.SubmitterKey, nil).Status)
	assert.Len(t, invoicesOf(t, env, ct["number"].(string)).Items, 3)
}

func TestBillingRunRequests(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	cases := []struct {
		name   string
		key    string
		body   string
		status int
		want   string
	}{
		{"submitter", env.A.SubmitterKey, `{"asOf": "2026-03-01"}`, http.StatusForbidden, "operator"},
		{"no date", env.A.OperatorKey, `{}`, http.StatusBadRequest, "asOf is required"},
		{"not a date", env.A.OperatorKey, `{"asOf": "2026-02-30"}`, http.StatusBadRequest, "not a date"},
		{"future", env.A.OperatorKey, `{"asOf": "2026-03-11"}`, http.StatusBadRequest, "after today (2026-03-10)"},
		{"unknown field", env.A.OperatorKey, `{"asOf": "2026-03-01", "dryRun": true}`, http.StatusBadRequest, "dryRun"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := env.Do("POST", "/api/billing/run", tc.key, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			assert.Contains(t, resp.JSON(t)["message"], tc.want)
		})
	}
	assert.Zero(t, env.CountRows("invoices"))
}

func TestCancelledScheduleCollectsNothingAndRestartResumesFromTheNextDueDate(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-10"))
	id := env.CreateContract(nil)["id"].(string)
	assert.Equal(t, 1, runBilling(t, env, "2026-01-10").Invoiced)

	env.Clock.Set(day("2026-02-10"))
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	assert.Equal(t, billingTotals{AsOf: "2026-02-10", Skipped: 1}, runBilling(t, env, "2026-02-10"))

	env.Clock.Set(day("2026-04-15"))
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "restartSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	assert.Equal(t, billingTotals{AsOf: "2026-04-15"}, runBilling(t, env, "2026-04-15"), "February to April were missed, not back-billed")

	env.Clock.Set(day("2026-05-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-05-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-05-01"))
	assert.Equal(t, []string{"2026-01-01", "2026-05-01"}, periodStarts(invoicesOf(t, env, id)))
}

// The dunning retries fall due on days the Temporal server's clock has already
// passed, so they run at once: the whole schedule plays out within the test.
func TestBillingDeclinedCollectionIsUnpaidAndDunningEndsInArrears(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-02-15"))
	id := env.CreateContract(map[string]any{"paymentMethod": "pm_declined"})["id"].(string)
	assert.Equal(t, billingTotals{AsOf: "2026-02-01", Invoiced: 2, Declined: 2}, runBilling(t, env, "2026-02-01"))

	list := invoicesOf(t, env, id)
	require.Len(t, list.Items, 2)
	for _, inv := range list.Items {
		assert.Equal(t, "UNPAID", inv.Status)
		require.NotEmpty(t, inv.Attempts)
		assert.Equal(t, "DECLINED", inv.Attempts[0].Outcome)
		assert.Contains(t, inv.Attempts[0].Reason, "declined")
	}

	// The first attempt and three dunning retries each.
	dunned := func() bool {
		list := invoicesOf(t, env, id)
		return list.InArrears && len(list.Items[0].Attempts) == 4 && len(list.Items[1].Attempts) == 4
	}
	require.Eventually(t, dunned, 30*time.Second, 200*time.Millisecond)
	contract := env.Do("GET", "/api/contracts/"+id, env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, true, contract["paymentSchedule"].(map[string]any)["inArrears"], "the contract read shows it too")
	for _, inv := range invoicesOf(t, env, id).Items {
		assert.Equal(t, "UNPAID", inv.Status)
	}
	assert.Zero(t, requireSettledOnce(t, env))
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"], "arrears leave the schedule's status alone")
}

func TestBillingRetriesAFlakyProviderAndCapturesOnce(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-15"))
	env.CreateContract(map[string]any{"paymentMethod": "pm_flaky"})
	assert.Equal(t, billingTotals{AsOf: "2026-01-15", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-01-15"))
	assert.Equal(t, 1, requireSettledOnce(t, env))
	var outages int
	require.NoError(t, env.Store.DB().Get(&outages, `SELECT coalesce(sum(failures), 0) FROM sandbox_outages`))
	assert.Equal(t, 4, outages, "authorise and capture each failed twice")
}

func TestBillingOverlappingRunsBillAndCaptureOnce(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-15"))
	for _, method := range []string{"pm_ok", "pm_ok", "pm_flaky"} {
		env.CreateContract(map[string]any{"paymentMethod": method})
	}
	dates := []string{"2026-03-01", "2026-03-01", "2026-03-02"}
	results := make([]billingTotals, len(dates))
	errs := make([]error, len(dates))
	done := make(chan struct{})
	for i, asOf := range dates {
		go func() {
			defer func() { done <- struct{}{} }()
			results[i], errs[i] = postBillingRun(env, asOf)
		}()
	}
	for range dates {
		<-done
	}
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, results[0], results[1], "a request for a date already running joins that run")
	assert.Equal(t, 9, results[0].Invoiced+results[2].Invoiced)
	assert.Equal(t, 9, results[0].Collected+results[2].Collected, "each collection is counted by one run: %+v, %+v", results[0], results[2])
	assert.Equal(t, 9, env.CountRows("invoices"))
	assert.Equal(t, 9, requireSettledOnce(t, env))
	var unpaid int
	require.NoError(t, env.Store.DB().Get(&unpaid, `SELECT count(*) FROM invoices WHERE status <> 'PAID'`))
	assert.Zero(t, unpaid)
}

func TestBillingRunSurvivesAWorkerRestart(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-02-15"))
	for range 2 {
		env.CreateContract(map[string]any{"paymentMethod": "pm_flaky"})
	}
	type answer struct {
		totals billingTotals
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		totals, err := postBillingRun(env, "2026-02-01")
		answered <- answer{totals, err}
	}()
	// pm_flaky keeps the run busy with retries; stop the worker once it has begun.
	require.Eventually(t, func() bool { return env.CountRows("invoices") > 0 }, 20*time.Second, 20*time.Millisecond)
	env.StopWorker()
	time.Sleep(time.Second)
	env.StartWorker()

	got := <-answered
	require.NoError(t, got.err)
	assert.Equal(t, billingTotals{AsOf: "2026-02-01", Invoiced: 4, Collected: 4}, got.totals)
	assert.Equal(t, 4, env.CountRows("invoices"))
	assert.Equal(t, 4, requireSettledOnce(t, env))
}

// postBillingRun is safe to call from a goroutine: it reports instead of failing the test.
func postBillingRun(env *testkit.Env, asOf string) (billingTotals, error) {
	var totals billingTotals
	body, err := json.Marshal(map[string]string{"asOf": asOf})
	if err != nil {
		return totals, err
	}
	req, err := http.NewRequest("POST", env.HTTP.URL+"/api/billing/run", bytes.NewReader(body))
	if err != nil {
		return totals, err
	}
	req.Header.Set("Authorization", "Bearer "+env.A.OperatorKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return totals, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return totals, err
	}
	if resp.StatusCode != http.StatusOK {
		return totals, &httpError{status: resp.StatusCode, body: string(raw)}
	}
	return totals, json.Unmarshal(raw, &totals)
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return http.StatusText(e.status) + ": " + e.body }

func TestBillingScheduleIsCreatedOnce(t *testing.T) {
	ctx := context.Background()
	_, c := testkit.Temporal(t)
	require.NoError(t, flow.NewClient(c, "billing-schedule-test", nil).EnsureBillingSchedule(ctx))
	handle := c.ScheduleClient().GetHandle(ctx, flow.BillingScheduleID)
	t.Cleanup(func() { _ = handle.Delete(context.Background()) })
	require.NoError(t, flow.NewClient(c, "billing-schedule-test", nil).EnsureBillingSchedule(ctx), "an existing schedule is kept")

	desc, err := handle.Describe(ctx)
	require.NoError(t, err)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok, "action %T", desc.Schedule.Action)
	assert.Equal(t, "DailyBillingWorkflow", action.Workflow)
	assert.Equal(t, "billing-schedule-test", action.TaskQueue)
}

// A change scheduled for the first day of a period is quoted without
// proration: that period's billing, on its first day, bills the new lines.
// When the billing run comes first (the change's timer late, as after an
// outage), the change is priced again as it applies and charges the
// period's difference: either way the period is charged the new price once.
func TestAPeriodBilledBeforeItsChangeAppliedIsChargedTheDifference(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 3, 31, 23, 59, 40, 0, time.UTC))
	id := fiveSeats(env, nil)["id"].(string)
	scheduled := seats(id, 7)
	scheduled["effectiveDate"] = "2026-04-01"
	resp := change(env, env.A.SubmitterKey, scheduled)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	quote := resp.JSON(t)["quote"].(map[string]any)
	assert.EqualValues(t, 0, quote["prorationTotal"], "April is not billed yet")
	amendmentID := quote["id"].(string)

	// The change's timer fires twenty seconds after it was made; the run
	// for 1 April comes first and bills April on five seats.
	env.Clock.Set(time.Date(2026, 4, 1, 0, 0, 30, 0, time.UTC))
	runBilling(t, env, "2026-04-01")
	am := eventually(t, func() map[string]any {
		return env.Do("GET", "/api/amendments/"+amendmentID, env.A.SubmitterKey, nil).JSON(t)
	}, func(a map[string]any) bool { return a["status"] == "APPLIED" })
	april := 0.0
	for _, raw := range env.Do("GET", "/api/contracts/"+id+"/invoices", env.A.SubmitterKey, nil).JSON(t)["items"].([]any) {
		if inv := raw.(map[string]any); inv["periodStart"] == "2026-04-01" {
			april += inv["total"].(float64)
		}
	}
	assert.EqualValues(t, 7*1500+500, april, "April charged on seven seats, once")
	assert.EqualValues(t, 2, am["quoteVersion"], "priced again as it applied: %v", am["quote"])
}

// A period a run missed is billed at the price of its time, not at today's:
// a contract changed on 10 March before any run is billed for January,
// February and March on its two seats; the change itself charged the three
// more seats for the rest of March (before, the run billed all three
// months on five seats, March's difference twice).
func TestAMissedPeriodIsBilledAtThePriceOfItsTime(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	id := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})["id"].(string)
	resp := change(env, env.A.SubmitterKey, seats(id, 5))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	proration := int64(resp.JSON(t)["quote"].(map[string]any)["prorationTotal"].(float64))
	assert.EqualValues(t, 3*1500*22/31, proration, "three seats for 22 of March's 31 days")

	assert.Equal(t, billingTotals{AsOf: "2026-03-10", Invoiced: 3, Collected: 4}, runBilling(t, env, "2026-03-10"))
	totals := map[string]int64{}
	for _, inv := range invoicesOf(t, env, id).Items {
		totals[inv.Kind+" "+inv.PeriodStart] += inv.Total
	}
	assert.Equal(t, map[string]int64{
		"RECURRING 2026-01-01": 2*1500 + 500, "RECURRING 2026-02-01": 2*1500 + 500, "RECURRING 2026-03-01": 2*1500 + 500,
		"AMENDMENT 2026-03-10": proration,
	}, totals)
	// From April on, five seats.
	env.Clock.Set(day("2026-04-01"))
	runBilling(t, env, "2026-04-01")
	for _, inv := range invoicesOf(t, env, id).Items {
		if inv.PeriodStart == "2026-04-01" {
			assert.EqualValues(t, 5*1500+500, inv.Total)
		}
	}
}

// A catalog's ceiling may not be lowered below the lines a billing run is
// still to price. A period a run missed is billed at the lines of its time,
// so a contract brought down from 25 seats to 5 before its first run is
// still billed at 25 for January and February: until they are invoiced, a
// ceiling of 10 would leave it out of the run as refused.
func TestCatalogLimitsKeepTheLinesStillToBeBilled(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-01"))
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 25}})
	id, number := ct["id"].(string), ct["number"].(string)
	resp := change(env, env.A.SubmitterKey, seats(id, 5))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	resp = putCatalogLimits(t, env, map[string]any{"maxQuantity": 10})
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
	assert.Contains(t, requireSurfaceError(t, "/api/catalog", resp), "limits.maxQuantity 10 is below the quantity 25 contract "+number+" is billed at")

	assert.Equal(t, billingTotals{AsOf: "2026-03-01", Invoiced: 3, Collected: 3}, runBilling(t, env, "2026-03-01"))
	resp = putCatalogLimits(t, env, map[string]any{"maxQuantity": 10})
	assert.Equal(t, http.StatusOK, resp.Status, "January and February are invoiced: five seats are left to bill; %s", resp.Body)
}

// marchPricedByARun makes a contract of two seats on 1 March and reads it
// as a billing run would: it returns the contract and its March invoice as
// the run priced it, not issued yet.
func marchPricedByARun(t *testing.T) (*testkit.Env, string, store.NewInvoice) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-01"))
	id := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})["id"].(string)
	asOf, err := domain.ParseDate("2026-03-01")
	require.NoError(t, err)
	read, _, err := env.Store.BillingContracts(context.Background(), env.A.ID, nil, asOf, 0, 10)
	require.NoError(t, err)
	require.Len(t, read, 1)
	march := domain.Period{Start: asOf, End: asOf.AddDays(31)}
	return env, id, store.NewInvoice{ContractID: id, Period: march, Currency: "USD", Total: 2*1500 + 500, PricedAt: read[0].State}
}

// Invoices priced at a version of their contract that a change has since
// replaced are refused as a whole and left to be priced again: the run
// read the contract before the change committed, and issuing them would
// bill the period at the old price while the change, made on the period's
// first day with the period not billed, left it to the run (hostile probe:
// a run racing six such changes lost two of them).
func TestInvoicesPricedBeforeAChangeAreNotIssued(t *testing.T) {
	env, id, stale := marchPricedByARun(t)
	ctx := context.Background()

	resp := change(env, env.A.SubmitterKey, seats(id, 5)) // commits after the run's read
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.EqualValues(t, 0, resp.JSON(t)["quote"].(map[string]any)["prorationTotal"], "March is not billed yet: the run bills it")
	_, err := env.Store.IssueRecurringInvoices(ctx, env.A.ID, "run", []string{id}, []store.NewInvoice{stale}, day("2026-03-01"))
	assert.ErrorIs(t, err, store.ErrContractChanged)
	assert.Zero(t, env.CountRows("invoices"), "nothing issued at the old price")

	// The run itself reads the contract again and bills March on five seats.
	runBilling(t, env, "2026-03-01")
	totals := map[string]int64{}
	for _, inv := range invoicesOf(t, env, id).Items {
		totals[inv.Kind+" "+inv.PeriodStart] += inv.Total
	}
	assert.Equal(t, int64(5*1500+500), totals["RECURRING 2026-03-01"])
}

// Invoices priced while the contract's payment schedule was active are not
// issued once it has been cancelled: the schedule is part of the state they
// were priced at, though cancelling it leaves the contract's version alone.
// The run then reads the contract again and bills nothing.
func TestInvoicesPricedBeforeAScheduleCancelAreNotIssued(t *testing.T) {
	env, id, stale := marchPricedByARun(t)
	ctx := context.Background()

	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	_, err := env.Store.IssueRecurringInvoices(ctx, env.A.ID, "run", []string{id}, []store.NewInvoice{stale}, day("2026-03-01"))
	assert.ErrorIs(t, err, store.ErrContractChanged)

	runBilling(t, env, "2026-03-01")
	assert.Zero(t, env.CountRows("invoices"), "a cancelled schedule is not invoiced")
}

// A change that waits for the contract while a billing run holds it (its
// share lock, taken while it issues the period's invoice) sees that invoice
// once it has the lock: it charges the difference for the period billed at
// the old price. It read the latest billed period with the snapshot taken
// before it waited, found the period not billed, and charged nothing, while
// the run had billed the old price (review of the run/change race fix).
func TestAChangeWaitingForABillingRunSeesItsInvoice(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-01"))
	id := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})["id"].(string)
	db := env.Store.DB()

	// The run's transaction: the contract share-locked, March invoiced on two seats.
	run, err := db.Beginx()
	require.NoError(t, err)
	defer func() { _ = run.Rollback() }()
	_, err = run.Exec(`SELECT 1 FROM contracts WHERE id = $1 FOR SHARE`, id)
	require.NoError(t, err)
	_, err = run.Exec(`INSERT INTO invoices (id, tenant_id, contract_id, kind, period_start, period_end, currency, lines, total, amount_due, status, created_at, billing_run)
		VALUES (gen_random_uuid(), $1, $2, 'RECURRING', '2026-03-01', '2026-04-01', 'USD', '[{"description": "off_team, 2026-03-01 to 2026-03-31", "amount": 3500}]', 3500, 3500, 'OPEN', now(), 'run')`, env.A.ID, id)
	require.NoError(t, err)

	answered := make(chan testkit.Response, 1)
	go func() { answered <- change(env, env.A.SubmitterKey, seats(id, 5)) }()
	require.Eventually(t, func() bool { // the change's transaction waits for the contract
		var waiting int
		return db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == nil && waiting > 0
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, run.Commit())

	resp := <-answered
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.EqualValues(t, 3*1500, resp.JSON(t)["quote"].(map[string]any)["prorationTotal"], "March was billed on two seats: the three more are charged for all of it")
}
