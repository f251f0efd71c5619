package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile([]Rule{
		{ID: "syntax", When: `action == "CANCELLATION" &&`},
		{ID: "not-bool", When: `quote.recurringDelta + 1`},
		{ID: "unknown-var", When: `price > 10`},
		{ID: "syntax", When: `true`},
		{ID: "expiry", When: `true`, ExpiresAfter: "soon"},
	})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 5)
	assert.Contains(t, ve.Problems[0], "rules[0] (syntax): ERROR: when:1:")
	assert.Contains(t, ve.Problems[1], "must yield a boolean")
	assert.Contains(t, ve.Problems[2], "undeclared reference to 'price'")
	assert.Contains(t, ve.Problems[3], "duplicate")
	assert.Contains(t, ve.Problems[4], "expiresAfter")
}

func TestMatchPicksTheFirstTrueRule(t *testing.T) {
	set, err := Compile([]Rule{
		{ID: "cancel", Name: "Cancellations", When: `action == "CANCELLATION"`, ExpiresAfter: "2d"},
		{ID: "big", Name: "Big increases", When: `quote.percentChange > 50.0 || quote.recurringDelta >= 100000`, ExpiresAfter: "36h"},
		{ID: "short", When: `contract.monthsRemaining < 3 && source == "CUSTOMER"`},
	})
	require.NoError(t, err)

	r, expiry, ok := set.Match(Facts{Action: "CANCELLATION"})
	require.True(t, ok)
	assert.Equal(t, "cancel", r.ID)
	assert.Equal(t, 48*time.Hour, expiry)

	r, expiry, ok = set.Match(Facts{Action: "QUANTITY_CHANGE", Quote: QuoteFacts{PercentChange: 60}})
	require.True(t, ok)
	assert.Equal(t, "big", r.ID)
	assert.Equal(t, 36*time.Hour, expiry)

	r, expiry, ok = set.Match(Facts{Action: "QUANTITY_CHANGE", Source: "CUSTOMER", Contract: ContractFacts{MonthsRemaining: 2}})
	require.True(t, ok)
	assert.Equal(t, "short", r.ID)
	assert.Equal(t, DefaultExpiry, expiry)

	_, _, ok = set.Match(Facts{Action: "QUANTITY_CHANGE", Source: "USER", Quote: QuoteFacts{RecurringDelta: 500, PercentChange: 5}, Contract: ContractFacts{MonthsRemaining: 12}})
	assert.False(t, ok)
}

// cancelsContract sees every change that ends the contract, whatever
// its action.
func TestARuleSeesWhetherTheChangeCancelsTheContract(t *testing.T) {
	set, err := Compile([]Rule{{ID: "cancel", When: `cancelsContract`}})
	require.NoError(t, err)
	_, _, ok := set.Match(Facts{Action: "REMOVE_OFFERING", Quote: QuoteFacts{CancelsContract: true}})
	assert.True(t, ok)
	_, _, ok = set.Match(Facts{Action: "REMOVE_OFFERING"})
	assert.False(t, ok)
}

// A renewal terms change moves no amount: a rule sees its uplift instead.
func TestARuleSeesTheRenewalUplift(t *testing.T) {
	set, err := Compile([]Rule{{ID: "cut", When: `quote.upliftDelta < 0 || quote.upliftBasisPoints < 0`}})
	require.NoError(t, err)
	for _, c := range []struct {
		quote QuoteFacts
		held  bool
	}{
		{QuoteFacts{UpliftBasisPoints: 300, UpliftDelta: -50}, true},
		{QuoteFacts{UpliftBasisPoints: -100, UpliftDelta: 0}, true},
		{QuoteFacts{UpliftBasisPoints: 350, UpliftDelta: 50}, false},
	} {
		_, _, held := set.Match(Facts{Action: string(domain.RenewalTermsChange), Quote: c.quote})
		assert.Equal(t, c.held, held, "%+v", c.quote)
	}
}

func TestRuleThatFailsAtRuntimeHoldsTheChange(t *testing.T) {
	set, err := Compile([]Rule{{ID: "ratio", When: `contract.recurringAmount / quote.discount > 10`}})
	require.NoError(t, err)
	r, _, ok := set.Match(Facts{}) // no discount: a division by zero
	require.True(t, ok)
	assert.Equal(t, "ratio", r.ID)
	// So does a stored rule reading a key the facts lack, which is no
	// longer saved (see checkRule).
	set, err = CompileStored([]Rule{{ID: "typo", When: `contract.colour == "red"`}})
	require.NoError(t, err)
	r, _, ok = set.Match(Facts{})
	require.True(t, ok)
	assert.Equal(t, "typo", r.ID)
}

func TestCacheCompilesRulesAgainOnlyWhenTheyChange(t *testing.T) {
	var c Cache
	cancel := []Rule{{ID: "cancel", When: `action == "CANCELLATION"`}}
	first, err := c.CompileStored("t1", cancel)
	require.NoError(t, err)
	again, err := c.CompileStored("t1", []Rule{{ID: "cancel", When: `action == "CANCELLATION"`}})
	require.NoError(t, err)
	assert.Same(t, first, again, "the same rules are not compiled twice")

	// An edited rule takes effect at once, and only for its tenant.
	edited, err := c.CompileStored("t1", []Rule{{ID: "cancel", When: `action == "CROSSGRADE"`}})
	require.NoError(t, err)
	_, _, held := edited.Match(Facts{Action: "CROSSGRADE"})
	assert.True(t, held)
	_, _, held = edited.Match(Facts{Action: "CANCELLATION"})
	assert.False(t, held)
	other, err := c.CompileStored("t2", cancel)
	require.NoError(t, err)
	_, _, held = other.Match(Facts{Action: "CANCELLATION"})
	assert.True(t, held)

	// Rules that no longer compile are refused, not replaced by the last good ones.
	_, err = c.CompileStored("t1", []Rule{{ID: "cancel", When: `action ==`}})
	require.Error(t, err)
}
