package domain

import (
	"fmt"
	"strings"
	"time"
)

// The tenant's advances share the budget. MaxClockAdvanceWork bounds what
// one advance holds the worker for; a sandbox tenant may have up to 100
// clocks (store.MaxClocksPerTenant), and bounded per advance alone, advancing
// many at once would have held the worker for as many times as long. So the advances of a tenant
// under way at one time carry out at most MaxClockAdvanceWork together:
// each holds the work counted when it started (or more, once something was
// added to it) until it ends, and an advance that would take the tenant
// past it is refused, saying how far its clock may go meanwhile.

// TooMuchWork refuses an advance of a test clock whose work is over
// MaxClockAdvanceWork, or what would take the rest of one under way over
// it; Work is the work as counted, and how far the clock may go.
type TooMuchWork struct {
	Err  *Error
	Work ClockWork
}

func (e *TooMuchWork) Error() string { return e.Err.Error() }
func (e *TooMuchWork) Unwrap() error { return e.Err }

// CheckClockAdvance refuses an advance of the test clock clockID, standing
// at from, to `to` that would carry out more work for its contracts than
// MaxClockAdvanceWork, less the work of the tenant's other advances under
// way (others); it says how far the clock may go instead. Over the
// bound alone it is 422; within it alone, the others' work is what stops
// it, and it is 409: it may go once they end. It returns the work counted.
func CheckClockAdvance(clockID string, contracts []ClockContract, from, to time.Time, others WorkUnderWay) (ClockWork, error) {
	underWay := others.Work
	w := countClockWork(contracts, from, to, underWay)
	if w.Within() {
		return w, nil
	}
	kind := KindUnprocessable
	if underWay > 0 && CountClockWork(contracts, from, to).Within() {
		kind = KindConflict
	}
	further := "in one advance, and on from there in the next"
	if underWay > 0 {
		further = "now, and further once they end"
	}
	return w, &TooMuchWork{Work: w, Err: Errorf(kind, "to",
		"to %s: advancing test clock %s there from %s would carry out %s, more than %s; it may go as far as %s (the end of %s) %s",
		to.Format(time.RFC3339Nano), clockID, from.Format(time.RFC3339Nano), w.Work, others.budgetLeft(),
		w.Furthest.Format(time.RFC3339Nano), DateOf(w.Furthest), further)}
}

// CheckAdvanceUnderWay refuses (kind, field) what would add to the work of
// an advance under way (what: new contracts on the clock, a change of one
// of its contracts, a restart of one's payment schedule) taking the rest of
// it, from the clock's time (from) to its target (to), past
// MaxClockAdvanceWork less the work of the tenant's other advances under
// way (others): contracts holds it already. kind is how the caller's
// surface refuses it (a 422, or the DDCMS seed's 400). It returns the work
// counted.
func CheckAdvanceUnderWay(kind Kind, field, what, clockID string, contracts []ClockContract, from, to time.Time, others WorkUnderWay) (ClockWork, error) {
	w := countClockWork(contracts, from, to, others.Work)
	if w.Within() {
		return w, nil
	}
	again := "once the clock is ready"
	if others.Work > 0 {
		again += ", or the others have ended"
	}
	return w, &TooMuchWork{Work: w, Err: Errorf(kind, field,
		"test clock %s is advancing to %s: with %s, the rest of its advance, from %s, would carry out %s, more than %s; send it again %s",
		clockID, to.Format(time.RFC3339Nano), what, from.Format(time.RFC3339Nano), w.Work, others.budgetLeft(), again)}
}

// WorkUnderWay is the work held by a tenant's other advances under way, and
// the clocks holding it, the most first.
type WorkUnderWay struct {
	Work   int
	Clocks []string
}

// clocksNamed is how many of the clocks holding work a refusal names: an
// operator finds the one stuck, or the one to wait for, among the first.
const clocksNamed = 3

// budgetLeft says what an advance may carry out beside the others.
func (o WorkUnderWay) budgetLeft() string {
	if o.Work == 0 {
		return fmt.Sprintf("the %d one advance may", MaxClockAdvanceWork)
	}
	named := strings.Join(o.Clocks[:min(len(o.Clocks), clocksNamed)], ", ")
	if more := len(o.Clocks) - clocksNamed; more > 0 {
		named += fmt.Sprintf(" and %d more", more)
	}
	return fmt.Sprintf("the %d left of the %d this tenant's advances may carry out at once (its other advances under way, "+
		"of test clocks %s, carry %d)", max(MaxClockAdvanceWork-o.Work, 0), MaxClockAdvanceWork, named, o.Work)
}
