package rules

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

// A pattern whose repeats multiply out past maxPatternSize: a probe's
// 380 of these in one rule took the worker to 22 GB.
var hugePattern = strings.Repeat(`(.?){1000}`, 3)

func TestARuleIsRefusedWhenItReadsAKeyTheFactsLackOrMatchesAnUnsafePattern(t *testing.T) {
	refused := map[string]string{
		`quote.nosuch == 1`:                           `quote has no "nosuch"`,
		`contract["plan"] == "x"`:                     `contract has no "plan"`,
		`has(quote.recurringdelta)`:                   `quote has no "recurringdelta"`,
		`actor.matches(source)`:                       "must be a string literal",
		`matches(actor, "(")`:                         "missing closing )",
		`actor.matches("` + hugePattern + `")`:        "too large",
		`actor.matches("^([a-z]{30}[0-9]{30}){30}$")`: "too large",
		`[1, 2].exists(x, quote.nope > x)`:            `quote has no "nope"`,
		`action == "X" || actor.matches(action)`:      "must be a string literal",
	}
	for when, want := range refused {
		_, err := Compile([]Rule{{ID: "r", When: when}})
		var ve *domain.ValidationError
		require.ErrorAs(t, err, &ve, when)
		assert.Contains(t, ve.Problems[0], want, when)
	}
	for _, when := range []string{
		`actor.matches("^ops-[0-9]{1,6}$")`,
		`matches(source, "^(USER|CUSTOMER)$")`,
		`quote["percentChange"] > 50.0 && contract.monthsRemaining < 3`,
		`has(quote.discount)`,
		// A character class is one instruction, however many ranges it has.
		`actor.matches("^\\p{Lu}{2}$")`,
		`actor.matches("^[A-Z]{2}-\\pL{2}$")`,
	} {
		_, err := Compile([]Rule{{ID: "r", When: when}})
		assert.NoError(t, err, when)
	}
}

// A rule stored before these checks is not evaluated when it breaks one:
// it holds every change, as a rule that fails to evaluate does, without
// compiling its pattern.
func TestAStoredRuleThatBreaksTheChecksHoldsEveryChange(t *testing.T) {
	set, err := CompileStored([]Rule{
		{ID: "fine", When: `action == "CANCELLATION"`},
		{ID: "huge", When: `!actor.matches("` + hugePattern + `")`},
	})
	require.NoError(t, err)
	r, _, held := set.Match(Facts{Action: "QUANTITY_CHANGE", Actor: "ops-1"})
	require.True(t, held)
	assert.Equal(t, "huge", r.ID)
}

// The keys a rule may read are the facts' own.
func TestTheKnownKeysAreTheFactsKeys(t *testing.T) {
	act := Facts{}.activation()
	assert.ElementsMatch(t, contractKeys, slices.Collect(maps.Keys(act["contract"].(map[string]any))))
	assert.ElementsMatch(t, quoteKeys, slices.Collect(maps.Keys(act["quote"].(map[string]any))))
}

// A stored rule that reads an unknown key, or matches a pattern the facts
// give, is evaluated as it was before these checks: it holds only the
// changes it fails or holds on, not every change of the tenant.
func TestAStoredRuleReadingAnUnknownKeyHoldsOnlyWhatItFailsOn(t *testing.T) {
	set, err := CompileStored([]Rule{
		{ID: "presence", When: `has(contract.colour)`},
		{ID: "guarded", When: `action == "CANCELLATION" && quote.nosuch > 0`},
		{ID: "dynamic", When: `actor.matches(source)`},
	})
	require.NoError(t, err)
	_, _, held := set.Match(Facts{Action: "QUANTITY_CHANGE", Source: "USER", Actor: "ops-1"})
	assert.False(t, held, "no rule holds a seat change")
	r, _, held := set.Match(Facts{Action: "CANCELLATION", Source: "USER", Actor: "ops-1"})
	require.True(t, held)
	assert.Equal(t, "guarded", r.ID, "the guarded rule fails on a cancellation, and holds it")
	r, _, held = set.Match(Facts{Action: "QUANTITY_CHANGE", Source: "USER", Actor: "USER"})
	require.True(t, held)
	assert.Equal(t, "dynamic", r.ID)
}
