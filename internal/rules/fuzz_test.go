package rules

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/contractd/contractd/internal/domain"
)

// FuzzCompile feeds operator-written rules to the compiler: any text is
// either a rule set or a validation error (answered 400), and a compiled set
// evaluates within its cost limit, never panicking.
func FuzzCompile(f *testing.F) {
	for _, seed := range []struct{ when, expires string }{
		{`action == "CANCELLATION"`, "7d"},
		{`quote.percentChange > 50.0 || quote.recurringDelta >= 100000`, "72h"},
		{`contract.monthsRemaining < 3 && source != "USER" && actor.startsWith("x")`, ""},
		{`quote.missing > 1`, "0d"},
		{`[1,2,3].all(x, x > 0) && size("abc") == 3`, "-1h"},
		{`action == `, "soon"},
		{`quote.recurringDelta * 2`, "9999999999999999999d"},
	} {
		f.Add(seed.when, seed.expires)
	}
	facts := Facts{
		Action: "CANCELLATION", Source: "USER", Actor: "a",
		Contract: ContractFacts{Status: "active", Currency: "USD", RecurringAmount: 8000, MonthsRemaining: 12},
		Quote:    QuoteFacts{RecurringDelta: -8000, ProrationAmount: -4387, PercentChange: -100, Discount: 10},
	}
	f.Fuzz(func(t *testing.T, when, expires string) {
		// An operator's rule must not be able to stall the service: compiling
		// and evaluating it has to finish, and quickly.
		done := make(chan error, 1)
		go func() { done <- compileAndMatch(when, expires, facts) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("compiling or evaluating %q took over 2s", when)
		}
	})
}

// compileAndMatch reports a rule that compiles to something other than a
// rule set or a validation error, or matches with no expiry.
func compileAndMatch(when, expires string, facts Facts) error {
	set, err := Compile([]Rule{{ID: "r", Name: "fuzzed", When: when, ExpiresAfter: expires}})
	var invalid *domain.ValidationError
	if err != nil {
		if !errors.As(err, &invalid) {
			return fmt.Errorf("not a validation error: %w", err)
		}
		return nil
	}
	if _, expiry, matched := set.Match(facts); matched && expiry <= 0 {
		return fmt.Errorf("matched with expiry %v", expiry)
	}
	return nil
}
