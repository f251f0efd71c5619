package rules

import (
	"fmt"
	"regexp/syntax"
	"slices"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
)

// The keys of the contract and quote maps a rule reads (Facts.activation).
// They are maps, not typed objects, so that rules stored before a key was
// added or a number's type settled still compile; a key outside them is
// refused when a rule is saved, where CEL's own check would let it through
// to fail on every evaluation and so hold every change of the tenant (a
// probe's quote.nosuch held even the service's own renewals, which then
// expired).
var (
	contractKeys = []string{"status", "currency", "recurringAmount", "monthsRemaining"}
	quoteKeys    = []string{"recurringDelta", "prorationAmount", "percentChange", "discount", "upliftBasisPoints", "upliftDelta"}
)

// maxPatternSize bounds a matches() pattern's size once its repeats are
// counted out (roughly the instructions Go's regexp compiles it to). A
// pattern's length is bounded by the rule's, but a repeat multiplies it:
// 380 groups of (.?){1000} in 3,800 characters compiled to gigabytes, and
// each evaluation under the contract's lock compiled them again. Real
// patterns (an account prefix, a set of codes) count a few dozen.
const maxPatternSize = 2000

// checkRule reports what a rule that compiled must not do: read a key the
// facts do not have, or match a pattern that is not a string literal or is
// too large (see maxPatternSize). A pattern is compiled once, with the rule
// (cel.OptimizeRegex), which only a literal can be. A stored rule (stored)
// is held only to what makes it unsafe to evaluate, a literal pattern too
// large or that does not parse: one reading an unknown key, or matching a
// pattern the facts give (short strings), is evaluated as it was when it
// was saved, holding only the changes it fails on.
func checkRule(a *cel.Ast, stored bool) error {
	var problem error
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if problem == nil {
			problem = checkExpr(e, stored)
		}
	}))
	return problem
}

func checkExpr(e celast.Expr, stored bool) error {
	switch e.Kind() {
	case celast.SelectKind:
		if stored {
			return nil
		}
		sel := e.AsSelect()
		return checkKey(sel.Operand(), sel.FieldName())
	case celast.CallKind:
		call := e.AsCall()
		args := call.Args()
		if call.IsMemberFunction() {
			args = append([]celast.Expr{call.Target()}, args...)
		}
		switch call.FunctionName() {
		case operators.Index, operators.OptIndex:
			if key, ok := stringLiteral(args[1]); ok && !stored {
				return checkKey(args[0], key)
			}
		case overloads.Matches:
			if _, literal := stringLiteral(args[len(args)-1]); literal || !stored {
				return checkPattern(args[len(args)-1])
			}
		}
	}
	return nil
}

// checkKey refuses a key of the contract or quote map that the facts do not
// have.
func checkKey(operand celast.Expr, key string) error {
	if operand.Kind() != celast.IdentKind {
		return nil
	}
	switch name := operand.AsIdent(); {
	case name == "contract" && !slices.Contains(contractKeys, key):
		return fmt.Errorf("contract has no %q; it has %v", key, contractKeys)
	case name == "quote" && !slices.Contains(quoteKeys, key):
		return fmt.Errorf("quote has no %q; it has %v", key, quoteKeys)
	}
	return nil
}

// checkPattern refuses a matches() pattern that is not a string literal,
// does not parse, or is too large.
func checkPattern(e celast.Expr) error {
	pattern, ok := stringLiteral(e)
	if !ok {
		return fmt.Errorf("a matches() pattern must be a string literal")
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return fmt.Errorf("matches() pattern: %w", err)
	}
	if size := patternSize(re, maxPatternSize); size > maxPatternSize {
		return fmt.Errorf("matches() pattern is too large once its repeats are counted (more than %d)", maxPatternSize)
	}
	return nil
}

// patternSize estimates re's compiled size, its repeats multiplied out,
// stopping once it passes limit (so a huge one costs no more than that).
// A literal compiles to an instruction per rune, a character class to one
// instruction however many ranges it has (\p{Lu} has hundreds).
func patternSize(re *syntax.Regexp, limit int) int {
	size := 1
	if re.Op == syntax.OpLiteral {
		size += len(re.Rune)
	}
	for _, sub := range re.Sub {
		if size > limit {
			return size
		}
		size += patternSize(sub, limit)
	}
	if re.Op == syntax.OpRepeat {
		times := max(re.Min, re.Max)
		if times > 0 && size > limit/times {
			return limit + 1
		}
		size *= max(times, 1)
	}
	return size
}

func stringLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
