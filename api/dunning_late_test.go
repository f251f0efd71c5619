package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// An invoice billed late (a contract back-dated months, whose first run
// bills every period since its start at once) has its retries 1, 3 and 7
// days after its first collection was declined, not after its due date.
// Counted from the due date every retry was in the past: the card was
// charged four times within a second and the schedule was in arrears on
// its first day (hostile probe).

// attemptsOf lists an invoice's collection attempts as "number outcome at".
func attemptsOf(t *testing.T, inv settledInvoice) []string {
	t.Helper()
	var out []string
	for _, a := range inv.Attempts {
		out = append(out, fmt.Sprintf("%d %s %s", a.Attempt, a.Outcome, parseTime(t, a.At).UTC().Format(time.RFC3339)))
	}
	return out
}

// recurringAttempts maps each of a contract's recurring invoices, by its
// period's start, to its attempts.
func recurringAttempts(t *testing.T, list settledInvoices) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, inv := range list.Items {
		if inv.Kind == "RECURRING" {
			out[inv.PeriodStart] = attemptsOf(t, inv)
		}
	}
	return out
}

// A contract on a test clock standing at 2026-04-10, back-dated to
// 2026-01-10 and paying with pm_declined: the clock's run of 04-10 bills
// January to April and every collection is declined. Each invoice, April's
// (collected on its due date) and the three billed late alike, is retried
// on 04-11, 04-13 and 04-17, and only then is the schedule in arrears.
func TestALateBilledInvoiceIsRetriedFromTheDayItWasDeclined(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, "2026-04-10T00:00:00Z")
	id := clockContract(t, env, sb, clockID, map[string]any{
		"effectiveDate": "2026-01-10", "expirationDate": "2027-01-10", "paymentMethod": "pm_declined",
	})
	periods := []string{"2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10"}
	tried := []string{"0 DECLINED 2026-04-10T00:30:00Z"}
	each := func(attempts []string) map[string][]string {
		out := map[string][]string{}
		for _, p := range periods {
			out[p] = attempts
		}
		return out
	}

	advanceTo(t, env, sb, clockID, "2026-04-10T02:00:00Z")
	list := tenantInvoicesOf(t, env, sb, id)
	assert.Equal(t, each(tried), recurringAttempts(t, list), "no retry on the day of the first collection")
	assert.False(t, list.InArrears, "not in arrears on the dunning's first day")

	advanceTo(t, env, sb, clockID, "2026-04-12T00:00:00Z")
	tried = append(tried, "1 DECLINED 2026-04-11T00:00:00Z")
	list = tenantInvoicesOf(t, env, sb, id)
	assert.Equal(t, each(tried), recurringAttempts(t, list), "the first retry a day later")
	assert.False(t, list.InArrears)

	advanceTo(t, env, sb, clockID, "2026-04-20T00:00:00Z")
	tried = append(tried, "2 DECLINED 2026-04-13T00:00:00Z", "3 DECLINED 2026-04-17T00:00:00Z")
	list = tenantInvoicesOf(t, env, sb, id)
	assert.Equal(t, each(tried), recurringAttempts(t, list), "the plan's spacing from the day the dunning began")
	assert.True(t, list.InArrears, "in arrears once every retry was declined")
	for _, inv := range list.Items {
		assert.Equal(t, "UNPAID", inv.Status, inv.PeriodStart)
	}
	assert.Zero(t, requireSettledOnce(t, env))
	requireLedgerBalances(t, env)
}

// The probe's own steps, on the wall clock: a contract effective three
// months ago paying with pm_declined, billed by a run as of today. Each
// invoice's dunning is started with its first task delayed to the start of
// the day after its first collection, when its first retry is due, rather
// than at once; until then each has only that collection, and the
// schedule is not in arrears.
func TestALateBilledInvoiceOnTheWallClockWaitsADayForItsFirstRetry(t *testing.T) {
	env := testkit.New(t)
	clearOfMidnight(t, time.Minute)
	now := env.Clock.Now().UTC()
	today := domain.DateOf(now)
	effective := domain.DateOf(now.AddDate(0, -3, 0))
	id := env.CreateContract(map[string]any{
		"effectiveDate": effective.String(), "expirationDate": effective.AddDays(730).String(), "paymentMethod": "pm_declined",
	})["id"].(string)
	resp := env.Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": today.String()})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	list := tenantInvoicesOf(t, env, env.A, id)
	require.GreaterOrEqual(t, len(list.Items), 3, "the periods since the contract's start")
	late := 0
	for _, inv := range list.Items {
		require.Len(t, inv.Attempts, 1, "%s: its first collection", inv.PeriodStart)
		first := inv.Attempts[0]
		assert.Equal(t, "DECLINED", first.Outcome)
		if inv.PeriodStart < today.String() {
			late++
		}
		dunning, err := env.Temporal.DescribeWorkflowExecution(t.Context(), flow.DunningWorkflowID(flow.InvoiceRef{TenantID: env.A.ID, InvoiceID: inv.ID}), "")
		require.NoError(t, err, inv.PeriodStart)
		info := dunning.GetWorkflowExecutionInfo()
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, info.GetStatus(), inv.PeriodStart)
		firstRetry := domain.DateOf(parseTime(t, first.At)).AddDays(1).Time()
		// Its start delay is counted from the starting activity's time, a
		// moment before the server's.
		assert.WithinRange(t, info.GetExecutionTime().AsTime(), firstRetry, firstRetry.Add(time.Minute),
			"%s: its first task when its first retry is due, the day after its first collection", inv.PeriodStart)
	}
	assert.GreaterOrEqual(t, late, 2, "invoices billed late")
	list = tenantInvoicesOf(t, env, env.A, id)
	for _, inv := range list.Items {
		assert.Len(t, inv.Attempts, 1, "%s: no retry before its day", inv.PeriodStart)
	}
	assert.False(t, list.InArrears)
}

// clearOfMidnight returns once the wall clock is more than margin before the
// next midnight UTC, waiting until just past it if need be. The first
// retries of invoices billed on the wall clock are due at that midnight: a
// run made in the day's last seconds saw them made while the test still
// counted the first collections.
func clearOfMidnight(t *testing.T, margin time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	if left := now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now); left < margin {
		t.Logf("waiting %s, until midnight UTC has passed", left.Round(time.Millisecond))
		time.Sleep(left + time.Second)
	}
}
