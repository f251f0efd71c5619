// Package rules evaluates a tenant's approval rules: CEL expressions over an
// amendment that, when one is true, hold the amendment for a person's review.
// CEL is sandboxed (no I/O, bounded cost), so operators can write rules
// without being able to harm the service.
package rules

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"

	"github.com/contractd/contractd/internal/domain"
)

// DefaultExpiry is how long a held amendment waits for a decision unless its
// rule says otherwise.
const DefaultExpiry = 7 * 24 * time.Hour

// costLimit bounds one evaluation; real rules use a few dozen units.
const costLimit = 10000

// Rule is one approval rule as operators write it.
type Rule struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	When         string `json:"when"`
	ExpiresAfter string `json:"expiresAfter,omitempty"`
}

// Bounds of ExpiresAfter: a review that ends before anyone could look at it,
// or that outlives any business process, is a mistake in the rule.
const (
	MinExpiry = time.Second
	MaxExpiry = 90 * 24 * time.Hour
)

// Expiry parses ExpiresAfter: a Go duration ("72h") or whole days ("7d"),
// from MinExpiry to MaxExpiry.
func (r Rule) Expiry() (time.Duration, error) {
	if r.ExpiresAfter == "" {
		return DefaultExpiry, nil
	}
	d, err := parseExpiry(r.ExpiresAfter)
	if err != nil || d < MinExpiry || d > MaxExpiry {
		return 0, fmt.Errorf("expiresAfter %q is not a duration from 1s to 90d such as \"72h\" or \"7d\"", r.ExpiresAfter)
	}
	return d, nil
}

// clampedExpiry is a stored rule's expiry brought within the bounds; one
// that no longer parses gets the default.
func clampedExpiry(s string) time.Duration {
	d, err := parseExpiry(s)
	switch {
	case err != nil:
		if strings.HasSuffix(s, "d") {
			return MaxExpiry // a number of days too large to count
		}
		return DefaultExpiry
	case d < MinExpiry:
		return MinExpiry
	case d > MaxExpiry:
		return MaxExpiry
	}
	return d
}

func parseExpiry(s string) (time.Duration, error) {
	days, ok := strings.CutSuffix(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	// Days beyond the bound are refused before they can overflow a Duration.
	n, err := strconv.Atoi(days)
	if err != nil || n > int(MaxExpiry/(24*time.Hour)) {
		return 0, fmt.Errorf("not a number of days")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Facts are what a rule can see of an amendment.
type Facts struct {
	Action   string
	Source   string
	Actor    string
	Contract ContractFacts
	Quote    QuoteFacts
}

// ContractFacts describe the contract being changed.
type ContractFacts struct {
	Status          string
	Currency        string
	RecurringAmount int64
	MonthsRemaining int64
}

// QuoteFacts describe the priced change. CancelsContract is true for every
// change that ends the contract: a CANCELLATION, and a REMOVE_OFFERING of
// its last offering, which the seed makes a cancellation too.
// UpliftBasisPoints is the renewal uplift the contract has once the change
// applies, and UpliftDelta what the change moves it by: only a
// RENEWAL_TERMS_CHANGE moves it, and no amount of its quote shows that.
type QuoteFacts struct {
	RecurringDelta    int64
	ProrationAmount   int64
	PercentChange     float64
	Discount          int64
	CancelsContract   bool
	UpliftBasisPoints int64
	UpliftDelta       int64
}

func (f Facts) activation() map[string]any {
	return map[string]any{
		"action": f.Action,
		"source": f.Source,
		"actor":  f.Actor,
		"contract": map[string]any{
			"status": f.Contract.Status, "currency": f.Contract.Currency,
			"recurringAmount": f.Contract.RecurringAmount, "monthsRemaining": f.Contract.MonthsRemaining,
		},
		"quote": map[string]any{
			"recurringDelta": f.Quote.RecurringDelta, "prorationAmount": f.Quote.ProrationAmount,
			"percentChange": f.Quote.PercentChange, "discount": f.Quote.Discount,
			"upliftBasisPoints": f.Quote.UpliftBasisPoints, "upliftDelta": f.Quote.UpliftDelta,
		},
		"cancelsContract": f.Quote.CancelsContract,
	}
}

// Set is a compiled, ordered list of rules.
type Set struct {
	rules    []Rule
	programs []cel.Program
	expiries []time.Duration
}

// env is built once: building it costs more than compiling a rule, and a
// cel.Env is safe for concurrent use.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("action", cel.StringType),
		cel.Variable("source", cel.StringType),
		cel.Variable("actor", cel.StringType),
		// A bool of its own, not in the quote's map: a rule that is just
		// cancelsContract then compiles as the boolean it is.
		cel.Variable("cancelsContract", cel.BoolType),
		cel.Variable("contract", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("quote", cel.MapType(cel.StringType, cel.DynType)),
	)
})

// Compile checks every rule and reports every problem: a blank or duplicate
// id, an expression that does not compile (with its position), does not
// yield a boolean, breaks checkRule or fails on a sample change, a bad
// expiry.
func Compile(rules []Rule) (*Set, error) { return compile(rules, false) }

// CompileStored compiles rules already accepted, some perhaps before
// expiresAfter had bounds: an expiry out of them is brought within them
// rather than refused, since refusing would hold up every change of the
// tenant until an operator noticed.
func CompileStored(rules []Rule) (*Set, error) { return compile(rules, true) }

func compile(rules []Rule, stored bool) (*Set, error) {
	set := &Set{rules: rules}
	if len(rules) == 0 {
		return set, nil
	}
	env, err := env()
	if err != nil {
		return nil, fmt.Errorf("rules environment: %w", err)
	}
	var problems domain.Problems
	seen := map[string]bool{}
	for i, r := range rules {
		label := fmt.Sprintf("rules[%d] (%s)", i, r.ID)
		if r.ID == "" {
			problems.Addf("rules[%d].id is required", i)
		} else if seen[r.ID] {
			problems.Addf("%s: id is a duplicate", label)
		}
		seen[r.ID] = true
		expiry, err := r.Expiry()
		if err != nil && stored {
			expiry, err = clampedExpiry(r.ExpiresAfter), nil
		}
		if err != nil {
			problems.Addf("%s: %v", label, err)
		}
		ast, iss := env.Compile(r.When)
		if iss.Err() != nil {
			problems.Addf("%s: %s", label, strings.ReplaceAll(iss.Err().Error(), "<input>", "when"))
			continue
		}
		if !ast.OutputType().IsExactType(cel.BoolType) {
			problems.Addf("%s: when must yield a boolean, not %s", label, ast.OutputType())
			continue
		}
		prg, err := program(env, ast, stored)
		if err != nil {
			problems.Addf("%s: %v", label, err)
			continue
		}
		set.programs = append(set.programs, prg)
		set.expiries = append(set.expiries, expiry)
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// program builds a compiled rule's program. A rule being saved is refused
// when it breaks checkRule or fails on a sample change (see samples). A
// stored rule that breaks checkRule (a literal pattern unsafe to compile)
// gets no program: it is not evaluated, and holds every change, as one
// that fails to evaluate; stored rules are
// not tried on samples, since refusing them would hold every change too.
func program(env *cel.Env, ast *cel.Ast, stored bool) (cel.Program, error) {
	if err := checkRule(ast, stored); err != nil {
		if stored {
			return nil, nil
		}
		return nil, err
	}
	// A literal pattern is compiled here, once, not at each evaluation.
	prg, err := env.Program(ast, cel.CostLimit(costLimit), cel.OptimizeRegex(interpreter.MatchesRegexOptimization))
	if err != nil || stored {
		return prg, err
	}
	return prg, trySamples(prg)
}

// Match returns the first rule that holds for the facts, with its expiry.
// A rule that fails to evaluate (a missing field, a type mismatch, its cost
// limit), or a stored one that could not be evaluated safely, counts as
// matching: when in doubt, a person looks.
func (s *Set) Match(f Facts) (*Rule, time.Duration, bool) {
	act := f.activation()
	for i, prg := range s.programs {
		if prg == nil {
			return &s.rules[i], s.expiries[i], true
		}
		out, _, err := prg.Eval(act)
		if err != nil {
			return &s.rules[i], s.expiries[i], true
		}
		if b, ok := out.Value().(bool); ok && b {
			return &s.rules[i], s.expiries[i], true
		}
	}
	return nil, 0, false
}
