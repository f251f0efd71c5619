package domain

import (
	"fmt"
	"strings"
)

// PlanOnTimeline plans a change against the contract as it will be on the
// change's date. A change dated after a scheduled cancellation conflicts
// with it and names it.
//
// A change dated by the billing periods (the next bill cycle, a
// crossgrade's end of the period) takes its date from the contract as it
// will be: the first day after today that starts a billing period of the
// contract as it will be on that day, as re-basing dates it (see
// replanOnDate). The changes ahead of it may bill another period, so the
// date the contract as it is now gives is only the first guess: priced
// against the projection on it, the change may date itself later, and is
// then priced against the projection on that date, until the two agree.
func PlanOnTimeline(p Preflight, timeline []Pending) (Quote, error) {
	date, err := p.dateOnTimeline()
	if err != nil {
		return Quote{}, err
	}
	if p.Change.RelativeEffectiveDate == EndOfTerm {
		// The end of the term as it is now, whatever the projection renews.
		p.Change.EffectiveDate = date
	}
	rank := termRank(p.Change.Action, &p.Change)
	// Each guess that fails moves past a change of the timeline: the
	// projection stays as it is after the last, and agrees.
	for guesses := len(timeline) + 2; ; guesses-- {
		pr := Project(p.Contract, before(timeline, date, rank), date)
		if pr.CancelledBy != "" {
			return Quote{}, Errorf(KindConflict, "effectiveDate",
				"contract %s is cancelled by scheduled amendment %s on or before %s; withdraw it first", p.Contract.Number, pr.CancelledBy, date)
		}
		q, err := p.planOnDate(pr.Contract, date)
		if err == nil && datedByPeriods(p.Change) && !q.EffectiveDate.Equal(date) {
			if q.EffectiveDate.After(date) && guesses > 0 {
				date = q.EffectiveDate
				continue
			}
			// A crossgrade the projection turns from a downgrade into an
			// upgrade: no date agrees with the contract as it will be then.
			err = Errorf(KindConflict, "effectiveDate", "the change has no date on contract %s's timeline: as the contract will be on %s, the date it waits for, it would take effect before then",
				p.Contract.Number, date)
		}
		if err != nil {
			return Quote{}, pr.explain(err, date, func() error { _, err := PlanChange(p); return err })
		}
		return q, nil
	}
}

// planOnDate prices p against ct, the contract as it will be on date. A
// change dated by the billing periods is priced as if asked the day before
// date, as re-basing prices it: on the date if date starts a billing period
// of ct, with the same proration as asked today.
func (p Preflight) planOnDate(ct Contract, date Date) (Quote, error) {
	p.Contract = ct
	if datedByPeriods(p.Change) && date.After(p.Today) {
		p.Today = date.AddDays(-1)
	}
	return PlanChange(p)
}

// datedByPeriods reports whether ch is dated relative to a billing period:
// on the next bill cycle, or a crossgrade (a downgrade waits for the end of
// the period).
func datedByPeriods(ch Change) bool {
	return ch.RelativeEffectiveDate == NextBillCycle || ch.Crossgrade != nil
}

// explain adds to a refusal of a change planned against a contract that
// other changes will have changed by date which changes those are: the
// refusal may hold only because of them (a crossgrade to the item another
// crossgrade on its way moves the contract to, a quantity change of an
// offering a scheduled change removes), which the contract as it is now
// does not show. asIs plans the change against the contract as it is now:
// a refusal it gives too, word for word, is the change's own, and is
// returned as it is, as are other errors.
func (pr Projection) explain(err error, date Date, asIs func() error) error {
	de, ok := err.(*Error)
	if !ok || len(pr.After) == 0 || de.Kind == KindInternal {
		return err
	}
	if own := asIs(); own != nil && own.Error() == err.Error() {
		return err
	}
	const named = 3
	ids := strings.Join(pr.After[max(0, len(pr.After)-named):], ", ")
	if more := len(pr.After) - named; more > 0 {
		ids = fmt.Sprintf("%d earlier and %s", more, ids)
	}
	out := *de
	out.Message = fmt.Sprintf("%s (as the contract will be on %s, after the amendments ahead of this change on its timeline: %s)", de.Message, date, ids)
	return &out
}

// dateOnTimeline is the date the change would take effect on, as far as it
// can be known before planning: a date the request names, else the start
// of the next bill cycle or today. Planning against the projection on that
// date validates the change against the projected terms.
func (p Preflight) dateOnTimeline() (Date, error) {
	switch {
	case p.Change.Action == Renewal:
		return p.Change.EffectiveDate, nil
	case p.Change.RelativeEffectiveDate == EndOfTerm:
		return endOfTerm(p.Contract, p.Change, p.Today)
	}
	if p.Change.Crossgrade != nil {
		// A crossgrade's date follows from what it changes to: an upgrade
		// now, a downgrade at the end of the period.
		if q, err := PlanChange(p); err == nil {
			return q.EffectiveDate, nil
		}
		return p.Today, nil
	}
	if p.Change.EffectiveDate.IsZero() && p.Change.RelativeEffectiveDate == "" {
		return p.Today, nil
	}
	q, err := PlanChange(Preflight{Catalog: p.Catalog, Contract: p.Contract, Change: dateOnly(p.Change), Today: p.Today})
	if err != nil {
		// The date alone is wrong (in the past, outside the term): say so.
		return Date{}, err
	}
	return q.EffectiveDate, nil
}

// before is the part of timeline that a new change of rank on date comes
// after: it is accepted last, so it follows every change of its date and
// rank.
func before(timeline []Pending, date Date, rank int) []Pending {
	var out []Pending
	for _, p := range timeline {
		c := p.Quote.EffectiveDate.Compare(date)
		if c < 0 || c == 0 && termRank(p.Quote.Action, p.Change) <= rank {
			out = append(out, p)
		}
	}
	return out
}

// TermsBefore is the renewal terms ct will have on date, just before ch
// takes effect then: after every accepted amendment of timeline (sorted by
// SortTimeline) that ch comes after, as PlanOnTimeline projects it. Approval
// rules see a terms change's uplift against them.
func TermsBefore(ct Contract, timeline []Pending, ch Change, date Date) RenewalTerms {
	return Project(ct, before(timeline, date, termRank(ch.Action, &ch)), date).Contract.Renewal
}

// dateOnly is a change that only moves the date: a cancellation, which any
// active contract accepts, dated as ch is.
func dateOnly(ch Change) Change {
	return Change{Action: Cancellation, ContractID: ch.ContractID, EffectiveDate: ch.EffectiveDate, RelativeEffectiveDate: ch.RelativeEffectiveDate}
}
