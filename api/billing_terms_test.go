package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/testkit"
)

// Billing follows a contract's terms. The renewal machinery that moves
// them (internal/domain/terms.go) is not what these tests are about: they
// set the columns it writes directly, as a renewal or an expiry leaves
// them, and check what billing makes of them. testkit checks the
// invariants after each test.

// billedPeriod is an invoice as its contract's invoice list shows it.
type billedPeriod struct {
	Start, End string
	Total      int64
	Status     string
}

func billedPeriods(t *testing.T, env *testkit.Env, contractID string) []billedPeriod {
	t.Helper()
	out := []billedPeriod{}
	for _, inv := range invoicesOf(t, env, contractID).Items {
		out = append(out, billedPeriod{inv.PeriodStart, inv.PeriodEnd, inv.Total, inv.Status})
	}
	return out
}

// setTerms writes what a renewal or an expiry would have written on the
// contract: set is an SQL assignment list with the contract's id as $1.
func setTerms(t *testing.T, env *testkit.Env, contractID, set string, args ...any) {
	t.Helper()
	_, err := env.Store.DB().Exec(`UPDATE contracts SET `+set+` WHERE id = $1`, append([]any{contractID}, args...)...)
	require.NoError(t, err)
}

// renew moves a contract to a new term from termStart to termEnd at prices
// uplifted by basisPoints, as an applied RENEWAL leaves it.
func renew(t *testing.T, env *testkit.Env, contractID, termStart, termEnd string, basisPoints int) {
	t.Helper()
	var raw []byte
	require.NoError(t, env.Store.DB().Get(&raw, `SELECT lines FROM contracts WHERE id = $1`, contractID))
	var lines []domain.Line
	require.NoError(t, json.Unmarshal(raw, &lines))
	uplifted, err := domain.UpliftLines(domain.Limits{}.OrDefaults(), lines, basisPoints, "lines")
	require.NoError(t, err)
	raw, err = json.Marshal(uplifted)
	require.NoError(t, err)
	setTerms(t, env, contractID, `term_start = $2, expiration_date = $3, lines = $4`, termStart, termEnd, raw)
}

// Two seats at 1500 and storage at 500, 3500 a month billed on the 1st:
// the term ending on January 15 renews with a 10 % uplift, to 3850. January is billed in two invoices, the
// first at the old price before the renewal, the second at the new one
// from the new term's first day.
func TestBillingSplitsAPeriodAtARenewedTermsStart(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-01"))
	ct := env.CreateContract(map[string]any{
		"effectiveDate": "2025-11-15", "expirationDate": "2026-01-15", "billingCycleDay": 1, "quantities": map[string]int{"prod_seat": 2},
	})
	id := ct["id"].(string)
	require.EqualValues(t, 3500, ct["recurringAmount"])
	assert.Equal(t, billingTotals{AsOf: "2026-01-01", Invoiced: 3, Collected: 3}, runBilling(t, env, "2026-01-01"))

	renew(t, env, id, "2026-01-15", "2027-01-15", 1000)
	env.Clock.Set(day("2026-02-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-02-01", Invoiced: 2, Collected: 2}, runBilling(t, env, "2026-02-01"))
	assert.Equal(t, []billedPeriod{
		{"2025-11-15", "2025-12-01", 1867, "PAID"}, // 16 of 30 days
		{"2025-12-01", "2026-01-01", 3500, "PAID"},
		{"2026-01-01", "2026-01-15", 1581, "PAID"}, // 14 of 31 days of 3500: the old term's last days
		{"2026-01-15", "2026-02-01", 2111, "PAID"}, // 17 of 31 days of 3850: the new term's first days
		{"2026-02-01", "2026-03-01", 3850, "PAID"},
	}, billedPeriods(t, env, id))
	split := invoicesOf(t, env, id).Items[3]
	assert.Equal(t, "off_team, 2026-01-15 to 2026-01-31 (17 of 31 days)", split.Lines[0].Description)
	assert.Equal(t, billingTotals{AsOf: "2026-02-01"}, runBilling(t, env, "2026-02-01"), "each stub is billed once")
}

// A renewal on the 1st, the billing day, splits nothing: the new term
// starts with a whole month at the new price.
func TestBillingTermStartOnABillingDaySplitsNothing(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-01"))
	id := env.CreateContract(map[string]any{
		"effectiveDate": "2026-01-01", "expirationDate": "2026-02-01", "quantities": map[string]int{"prod_seat": 2},
	})["id"].(string)
	assert.Equal(t, billingTotals{AsOf: "2026-01-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-01-01"))

	renew(t, env, id, "2026-02-01", "2027-02-01", 1000)
	env.Clock.Set(day("2026-02-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-02-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-02-01"))
	assert.Equal(t, []billedPeriod{
		{"2026-01-01", "2026-02-01", 3500, "PAID"},
		{"2026-02-01", "2026-03-01", 3850, "PAID"},
	}, billedPeriods(t, env, id))
}

// Two contracts whose minimum term ended on February 15: the evergreen
// one rolls on in whole months; the expired one is billed, late, the part
// of February its term covered, and nothing after.
func TestBillingPastTheTermEndEvergreenGoesOnExpiredStops(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-01"))
	create := func() string {
		return env.CreateContract(map[string]any{
			"effectiveDate": "2026-01-01", "expirationDate": "2026-02-15", "quantities": map[string]int{"prod_seat": 2},
		})["id"].(string)
	}
	evergreen, expired := create(), create()
	assert.Equal(t, billingTotals{AsOf: "2026-01-01", Invoiced: 2, Collected: 2}, runBilling(t, env, "2026-01-01"))

	// No run from January 2 to April 1; the second contract expired meanwhile.
	setTerms(t, env, evergreen, `renewal_mode = 'EVERGREEN'`)
	setTerms(t, env, expired, `status = 'expired'`)
	env.Clock.Set(day("2026-04-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-04-01", Invoiced: 4, Collected: 4}, runBilling(t, env, "2026-04-01"))
	assert.Equal(t, []billedPeriod{
		{"2026-01-01", "2026-02-01", 3500, "PAID"},
		{"2026-02-01", "2026-03-01", 3500, "PAID"}, // no stub at the expiration date
		{"2026-03-01", "2026-04-01", 3500, "PAID"},
		{"2026-04-01", "2026-05-01", 3500, "PAID"},
	}, billedPeriods(t, env, evergreen))
	want := []billedPeriod{
		{"2026-01-01", "2026-02-01", 3500, "PAID"},
		{"2026-02-01", "2026-02-15", 1750, "PAID"}, // 14 of 28 days
	}
	assert.Equal(t, want, billedPeriods(t, env, expired))
	assert.Equal(t, [2]int{2, 2}, runProgress(t, env, "2026-04-01"), "both contracts were due and checked")

	env.Clock.Set(day("2026-05-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-05-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-05-01"))
	assert.Len(t, billedPeriods(t, env, evergreen), 5)
	assert.Equal(t, want, billedPeriods(t, env, expired), "nothing after the end")
	assert.Equal(t, [2]int{1, 1}, runProgress(t, env, "2026-05-01"), "an expired contract billed to its end is not looked at again")
}

// runProgress is how many contracts a finished billing run counted due and
// how many it checked.
func runProgress(t *testing.T, env *testkit.Env, runID string) [2]int {
	t.Helper()
	resp := env.Do("GET", "/api/billing/runs/"+runID, env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var run billingRun
	resp.Decode(t, &run)
	return [2]int{run.Due, run.Checked}
}

// An expired contract whose last period is still to be billed holds the
// catalog's ceilings; one with nothing left to bill does not, though no
// invoice reaches its end: its schedule, restarted in its last period,
// resumes only on its last day, so that period is never billed.
func TestCatalogLimitsLeaveAnExpiredContractWithNothingToBill(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-01"))
	ct := env.CreateContract(map[string]any{
		"effectiveDate": "2026-01-01", "expirationDate": "2026-02-15", "quantities": map[string]int{"prod_seat": 25},
	})
	id, number := ct["id"].(string), ct["number"].(string)
	runBilling(t, env, "2026-01-01")
	setTerms(t, env, id, `status = 'expired'`)

	resp := putCatalogLimits(t, env, map[string]any{"maxQuantity": 10})
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
	assert.Contains(t, requireSurfaceError(t, "/api/catalog", resp), "the quantity 25 contract "+number+" is billed at", "February 1 to 15 is still to bill")

	setTerms(t, env, id, `schedule_resumes_on = '2026-02-15'`)
	resp = putCatalogLimits(t, env, map[string]any{"maxQuantity": 10})
	assert.Equal(t, http.StatusOK, resp.Status, "nothing is left to bill: %s", resp.Body)
}

// An expired contract whose last period is still to be billed is on a
// run's page, and a charge left on it is also an ended contract's: the run
// collects it once (listed twice, its batch was refused and retried for
// ever, and the run never ended).
func TestAnExpiredContractsChargeIsCollectedOnce(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-01-01"))
	id := env.CreateContract(map[string]any{
		"effectiveDate": "2026-01-01", "expirationDate": "2026-02-15", "quantities": map[string]int{"prod_seat": 2},
	})["id"].(string)
	assert.Equal(t, billingTotals{AsOf: "2026-01-01", Invoiced: 1, Collected: 1}, runBilling(t, env, "2026-01-01"))
	env.Clock.Set(day("2026-01-20"))
	resp := change(env, env.A.SubmitterKey, seats(id, 4))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	setTerms(t, env, id, `status = 'expired'`)
	env.Clock.Set(day("2026-04-01"))
	assert.Equal(t, billingTotals{AsOf: "2026-04-01", Invoiced: 1, Collected: 2}, runBilling(t, env, "2026-04-01"),
		"the last period and the charge")
	var open int
	require.NoError(t, env.Store.DB().Get(&open, `SELECT count(*) FROM invoices WHERE contract_id = $1 AND status <> 'PAID'`, id))
	assert.Zero(t, open)
}
