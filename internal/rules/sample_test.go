package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

// Each of these passed checkRule yet failed on every change, and so held
// every change of the tenant, its renewals too.
func TestARuleThatFailsOnASampleChangeIsRefused(t *testing.T) {
	list := strings.Repeat("1, ", 19) + "1"
	refused := map[string]string{
		`contract.recurringAmount > "a"`:                                                     "no such overload",
		`timestamp(actor) > timestamp("2020-01-01T00:00:00Z")`:                               "type conversion error",
		`quote["recurring" + "delta"] > 0`:                                                   "no such key",
		`[quote].exists(q, q.recurringdelta > 0)`:                                            "no such key",
		`{"x": quote}.x.recurringdelta > 0`:                                                  "no such key",
		`action == "CANCELLATION" && contract.status > 1`:                                    "CANCELLATION",
		`action == "RENEWAL" && timestamp(actor) < timestamp(0)`:                             "RENEWAL",
		"[" + list + "].all(x, [" + list + "].all(y, [" + list + "].all(z, x + y + z > 0)))": "cost limit",
	}
	for when, want := range refused {
		_, err := Compile([]Rule{{ID: "r", When: "true"}, {ID: "x", When: when}})
		var ve *domain.ValidationError
		require.ErrorAs(t, err, &ve, when)
		require.Len(t, ve.Problems, 1, when)
		assert.Contains(t, ve.Problems[0], "rules[1] (x): fails on a sample change: ", when)
		assert.Contains(t, ve.Problems[0], want, when)
	}
}

// Stored rules are not tried on samples: refusing them would hold every
// change as well, and one failing on a change holds it anyway.
func TestAStoredRuleIsNotTriedOnSamples(t *testing.T) {
	set, err := CompileStored([]Rule{{ID: "mismatch", When: `contract.recurringAmount > "a"`}})
	require.NoError(t, err)
	r, _, held := set.Match(samples[0])
	require.True(t, held)
	assert.Equal(t, "mismatch", r.ID)
}

// A sample has every number non-zero and every string set, so that only a
// rule failing on an ordinary change is refused.
func TestSamplesAreOrdinaryChanges(t *testing.T) {
	actions := map[string]bool{}
	for _, f := range samples {
		actions[f.Action] = true
		for _, v := range []any{f.Source, f.Actor, f.Contract.Status, f.Contract.Currency, f.Contract.RecurringAmount,
			f.Contract.MonthsRemaining, f.Quote.RecurringDelta, f.Quote.ProrationAmount, f.Quote.PercentChange, f.Quote.Discount} {
			assert.NotZero(t, v, f.Action)
		}
	}
	for _, a := range slices.Concat(domain.Actions, []domain.Action{domain.Crossgrade, domain.RenewalTermsChange, domain.Renewal}) {
		assert.True(t, actions[string(a)], a)
	}
}
