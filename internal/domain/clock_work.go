package domain

import (
	"fmt"
	"slices"
	"time"
)

// The work of a test clock's advance. An advance carries out, for every
// contract on the clock, what falls due on its way, one due moment after
// another: each is a workflow woken and what it does, and each billing run a
// child workflow. Bounded only by 100 contracts and 10 years, one advance of
// a clock of contracts on 1-month AUTO_RENEW terms (30 days' notice) would
// carry out 12,000 renewals, 12,100 billing periods and 358,300 daily tries
// to open a renewal: on the shared two-core machine, 11 clock days of 100
// such contracts took 49 s, and a clock month 280-300 s under others' load,
// so such an advance would have held the worker for hours, every other
// tenant's changes queued behind its steps.
const (
	// MaxClockAdvanceWork is how much work (AdvanceWork.Total) one advance
	// may carry out: a year of monthly billing periods for a clock's 100
	// contracts that do not renew in it; ten years of two monthly-billed
	// contracts on yearly terms with 30 days' notice (430 each); three
	// years of one on 1-month terms with 30 days' notice (about 32 a
	// month). Measured at the bound on the same machine, an advance took
	// 49 s (100 such contracts: 11 days), 106 s (100 with a day's notice:
	// 4 months) and 150 s (4 with a day's notice: 8 years, some 300
	// steps): a couple of minutes at most.
	MaxClockAdvanceWork = 1200
)

// ClockContract is an active contract on a test clock as the work of an
// advance is counted on it.
type ClockContract struct {
	Renewal RenewalTerms
	// Billing are its billing terms as billing reads them: its current
	// term's end as ExpirationDate, its start as TermStart.
	Billing BillingTerms
	// Bills says its payment schedule bills (is active).
	Bills bool
	// Changes are its open amendments but renewals (a renewal's work is
	// counted with its term's end), in date order.
	Changes []ClockChange
}

// ClockChange is an open amendment of a contract on a test clock: its
// date, and what it does to the work of an advance once it applies.
type ClockChange struct {
	Date Date
	// Accepted is SCHEDULED or PENDING. One still in REVIEW may be approved
	// or rejected while the clock advances: its contract counts as either,
	// whichever is more (countMost), and its cancellation never, which
	// would count less.
	Accepted bool
	Cancels  bool
	// Terms are the renewal terms a RENEWAL_TERMS_CHANGE sets, from the
	// end of the term after its date.
	Terms *RenewalTerms
	// Period is the billing period once it applies.
	Period BillingPeriod
}

// AdvanceWork is the work of an advance, by kind.
type AdvanceWork struct {
	// TermEnds are terms ending: a renewal, or an expiry.
	TermEnds int `json:"termEnds"`
	// NoticeDays are the days a term spends in its renewal notice window,
	// on each of which its workflow tries to open its renewal.
	NoticeDays int `json:"noticeDays"`
	// Periods are billing periods invoiced and collected.
	Periods int `json:"periods"`
	// Amendments are open amendments applied, or reviewed.
	Amendments int `json:"amendments"`
}

// Total is the work in all.
func (w AdvanceWork) Total() int { return w.TermEnds + w.NoticeDays + w.Periods + w.Amendments }

func (w AdvanceWork) plus(o AdvanceWork) AdvanceWork {
	return AdvanceWork{TermEnds: w.TermEnds + o.TermEnds, NoticeDays: w.NoticeDays + o.NoticeDays, Periods: w.Periods + o.Periods,
		Amendments: w.Amendments + o.Amendments}
}

// String is how the work reads in messages.
func (w AdvanceWork) String() string {
	return fmt.Sprintf("%d in all: %d term ends (a renewal or an expiry each), %d days of renewal notice (a try to open the renewal each), %d billing periods and %d amendments",
		w.Total(), w.TermEnds, w.NoticeDays, w.Periods, w.Amendments)
}

// ClockWork is the work an advance from the clock's time to a target, To,
// would carry out.
type ClockWork struct {
	To time.Time
	// Work is all of it.
	Work AdvanceWork
	// Furthest is how far the clock may go within MaxClockAdvanceWork, less
	// UnderWay: the end of the last day before the one that would take the
	// work past it, or To when none does. With nothing else under way the
	// first day with work is always within, whatever it holds, so that a
	// clock can always move: each of its items was held to its own bounds
	// when it was made.
	Furthest time.Time
	// UnderWay is the work of the tenant's other advances under way, which
	// share MaxClockAdvanceWork with this one.
	UnderWay int
}

// Within reports whether the advance is within MaxClockAdvanceWork, with
// the tenant's other advances under way.
func (w ClockWork) Within() bool { return !w.To.After(w.Furthest) }

// CountClockWork counts the work an advance of a clock standing at `from`
// to `to` would carry out for its contracts, as they and their open
// amendments stand. Each item is counted on the day it falls due, those
// from the day after the clock's through to's: what is due on the clock's
// day has happened, or happens the next. Dunning retries, which depend on
// how collections go, are not counted.
func CountClockWork(contracts []ClockContract, from, to time.Time) ClockWork {
	return countClockWork(contracts, from, to, 0)
}

// countClockWork is CountClockWork beside underWay, the work of the
// tenant's other advances under way.
func countClockWork(contracts []ClockContract, from, to time.Time, underWay int) ClockWork {
	w := workDays{after: DateOf(from), last: DateOf(to), by: map[Date]AdvanceWork{}}
	for _, c := range contracts {
		c.countMost(&w)
	}
	out := w.within(MaxClockAdvanceWork-underWay, underWay == 0, to)
	out.UnderWay = underWay
	return out
}

// workDays is the work of an advance by day, each in (after, last].
type workDays struct {
	after, last Date
	by          map[Date]AdvanceWork
}

func (w *workDays) add(day Date, item AdvanceWork) {
	if day.After(w.after) && !day.After(w.last) {
		w.by[day] = w.by[day].plus(item)
	}
}

// within sums the work and finds how far it stays within budget; with
// firstFree, the first day with work is within whatever it holds.
func (w *workDays) within(budget int, firstFree bool, to time.Time) ClockWork {
	days := make([]Date, 0, len(w.by))
	for d := range w.by {
		days = append(days, d)
	}
	slices.SortFunc(days, Date.Compare)
	out := ClockWork{To: to, Furthest: to}
	capped := false
	for i, d := range days {
		out.Work = out.Work.plus(w.by[d])
		if !capped && out.Work.Total() > budget {
			capped = true
			allowed := d.AddDays(-1)
			if i == 0 && firstFree {
				allowed = d
			}
			// The end of that day, to the microsecond the store keeps.
			out.Furthest = allowed.AddDays(1).Time().Add(-time.Microsecond)
		}
	}
	return out
}

// countMost adds the contract's work with its changes in review counted as
// approved or, if that is more, as rejected: one rejected, withdrawn or
// expired while the clock advances (a change to annual billing, to longer
// terms) must not give the advance more than it was counted for.
func (c ClockContract) countMost(w *workDays) {
	accepted := slices.DeleteFunc(slices.Clone(c.Changes), func(ch ClockChange) bool { return !ch.Accepted })
	if len(accepted) == len(c.Changes) {
		c.count(w)
		return
	}
	approved, rejected := w.empty(), w.empty()
	c.count(&approved)
	c.Changes = accepted
	c.count(&rejected)
	most := approved
	if rejected.total() > approved.total() {
		most = rejected
	}
	for day, item := range most.by {
		w.by[day] = w.by[day].plus(item)
	}
}

func (w *workDays) empty() workDays {
	return workDays{after: w.after, last: w.last, by: map[Date]AdvanceWork{}}
}

func (w *workDays) total() int {
	n := 0
	for _, item := range w.by {
		n += item.Total()
	}
	return n
}

// count adds the contract's work: its amendments, its terms' ends and
// notice days, and its billing periods, up to its cancellation.
func (c ClockContract) count(w *workDays) {
	var cancelled Date
	for _, ch := range c.Changes {
		if ch.Accepted && ch.Cancels && (cancelled.IsZero() || ch.Date.Before(cancelled)) {
			cancelled = ch.Date
		}
	}
	for _, ch := range c.Changes {
		if cancelled.IsZero() || !ch.Date.After(cancelled) {
			w.add(later(ch.Date, w.after.AddDays(1)), AdvanceWork{Amendments: 1})
		}
	}
	stop := c.countTerms(w, cancelled)
	if c.Bills {
		c.countPeriods(w, stop)
	}
}

// countTerms adds the ends of the contract's terms and their notice days
// (AUTO_RENEW) up to the first end after the advance, and returns the day
// the contract stops (zero when it runs on past the advance): an expiry,
// a renewal refused for ending after LastDate, or its cancellation.
func (c ClockContract) countTerms(w *workDays, cancelled Date) Date {
	start, end := later(c.Billing.EffectiveDate, c.Billing.TermStart), c.Billing.ExpirationDate
	for {
		terms := c.termsFor(end)
		if terms.Mode == Evergreen || (!cancelled.IsZero() && cancelled.Before(end)) {
			return cancelled
		}
		if terms.Mode == AutoRenew {
			// Tried on its notice date, or from its term's start if
			// that comes later, and every day until its end.
			for d := later(later(terms.NoticeDate(end), start), w.after.AddDays(1)); d.Before(end) && !d.After(w.last); d = d.AddDays(1) {
				w.add(d, AdvanceWork{NoticeDays: 1})
			}
		}
		w.add(end, AdvanceWork{TermEnds: 1})
		next := NextTermEnd(c.Billing.EffectiveDate, end, max(1, terms.TermMonths))
		switch {
		case terms.Mode != AutoRenew, next.After(LastDate), cancelled.Equal(end):
			return end
		case end.After(w.last):
			return Date{}
		}
		start, end = end, next
	}
}

// termsFor are the renewal terms the term ending on end ends under: the
// contract's, or those of the last change dated before end that sets
// terms (one dated on end applies to the term after it).
func (c ClockContract) termsFor(end Date) RenewalTerms {
	terms := c.Renewal
	for _, ch := range c.Changes {
		if ch.Terms != nil && ch.Date.Before(end) {
			terms = *ch.Terms
		}
	}
	return terms
}

// countPeriods adds the contract's billing periods up to stop (zero: on
// through the advance), each in the billing period in force on its day.
func (c ClockContract) countPeriods(w *workDays, stop Date) {
	t := c.Billing
	t.Evergreen = stop.IsZero()
	if !stop.IsZero() {
		t.ExpirationDate = stop
	}
	for _, ch := range c.Changes {
		if ch.Period == "" || ch.Period == t.Period || (!stop.IsZero() && !ch.Date.Before(stop)) {
			continue
		}
		before := t
		before.Evergreen, before.ExpirationDate = false, ch.Date
		countDue(w, before)
		t.Period, t.BilledThrough = ch.Period, later(t.BilledThrough, ch.Date)
	}
	countDue(w, t)
}

// countDue adds each period of t due by the advance's last day, on its
// first day; a period due already is billed by the next billing run.
func countDue(w *workDays, t BillingTerms) {
	for _, p := range t.DuePeriods(w.last) {
		w.add(later(p.Billed.Start, w.after.AddDays(1)), AdvanceWork{Periods: 1})
	}
}
