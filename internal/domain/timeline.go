package domain

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// MaxPendingPerContract bounds a contract's open amendments (PENDING,
// SCHEDULED and REVIEW together). Every change re-prices the pending ones after it in one
// transaction, so the bound keeps that transaction short.
const MaxPendingPerContract = 100

// Pending is an open amendment on a contract's timeline. A SCHEDULED one is
// a phase of the contract's future, ordered by its date then by Seq, the
// order it was accepted in; one in REVIEW is not part of the future until it
// is approved, but it is priced against it so that its approver sees what it
// would do.
type Pending struct {
	ID     string
	Status string
	// Seq is the order the amendment entered SCHEDULED in; 0 in REVIEW.
	Seq          int64
	Quote        Quote
	QuoteVersion int64
	// Change is the request the amendment was opened with, nil for one
	// opened before changes were recorded: such an amendment keeps its quote
	// while the contract it was priced on stays as it was.
	Change *Change
}

// InProjection reports whether the amendment is part of the contract's
// future: accepted (see Accepted).
func (p Pending) InProjection() bool { return Accepted(p.Status) }

// Accepted reports whether an amendment in status is accepted onto its
// contract's timeline, open still: due later (SCHEDULED) or today
// (PENDING).
func Accepted(status string) bool { return status == StatusScheduled || status == StatusPending }

// SortTimeline orders pending amendments as they will apply: by date, then,
// on a term's end, a cancellation at the end of the term before the
// renewal and the renewal before any other change, then by the order they
// were accepted in; those in REVIEW go after the scheduled ones of their
// date, as an approval would put them.
func SortTimeline(list []Pending) {
	slices.SortStableFunc(list, comparePending)
}

func comparePending(a, b Pending) int {
	if c := a.Quote.EffectiveDate.Compare(b.Quote.EffectiveDate); c != 0 {
		return c
	}
	if c := cmp.Compare(termRank(a.Quote.Action, a.Change), termRank(b.Quote.Action, b.Change)); c != 0 {
		return c
	}
	return cmp.Compare(seqOrLast(a), seqOrLast(b))
}

// termRank orders the changes of one date around a renewal: a cancellation
// at the end of the term ends the contract before it could renew, and any
// other change at the end of the term applies to the renewed one.
func termRank(action Action, ch *Change) int {
	switch {
	case action == Cancellation && ch != nil && ch.RelativeEffectiveDate == EndOfTerm:
		return 0
	case action == Renewal:
		return 1
	}
	return 2
}

func seqOrLast(p Pending) int64 {
	if p.Seq == 0 {
		return 1<<63 - 1
	}
	return p.Seq
}

// Projection is a contract as it will be on a date: its terms after every
// scheduled amendment dated on or before it.
type Projection struct {
	Contract Contract
	// CancelledBy is the scheduled cancellation that ends the contract, if
	// one applies by then.
	CancelledBy string
	// After are the accepted amendments the projection applied, in order.
	After []string
}

// Project returns ct as it will be on `on`, after the scheduled amendments
// of timeline (sorted by SortTimeline) dated on or before it.
func Project(ct Contract, timeline []Pending, on Date) Projection {
	pr := Projection{Contract: ct}
	for _, p := range timeline {
		if p.Quote.EffectiveDate.After(on) {
			break
		}
		if p.InProjection() {
			pr.apply(p)
		}
	}
	return pr
}

// apply moves the projection past p.
func (pr *Projection) apply(p Pending) {
	q := p.Quote
	ct := &pr.Contract
	pr.After = append(pr.After, p.ID)
	ct.Lines, ct.RecurringAmount, ct.BillingPeriod = q.LinesAfter, q.RecurringAfter, q.BillingPeriod
	ct.Version++
	if q.Crossgrade != nil || q.Discount != nil {
		ct.Discount = q.Discount
	}
	if q.CancelsContract {
		ct.Status = ContractCancelled
		pr.CancelledBy = p.ID
	}
	if r := q.Renewal; r != nil {
		ct.TermStart, ct.ExpirationDate = r.TermStart, r.TermEnd
	}
	if q.Terms != nil {
		ct.Renewal = *q.Terms
	}
}

// Rebased is what re-pricing a pending amendment against a new projection
// gave: its new quote, or why it no longer holds.
type Rebased struct {
	ID    string
	Quote Quote
	// Changed is set when Quote differs from the recorded one.
	Changed bool
	Err     error
}

// Rebase re-validates and re-prices every pending amendment of timeline
// (sorted by SortTimeline) against the contract as it will be on its date,
// given ct as it is now. An amendment that no longer holds leaves the
// projection, so the ones after it are priced without it. facts supplies a
// crossgrade's validation facts.
func Rebase(cat *Catalog, ct Contract, timeline []Pending, today Date, charges []TerminationCharge, facts func(Pending) CrossgradeFacts) []Rebased {
	out := make([]Rebased, 0, len(timeline))
	pr := Projection{Contract: ct}
	for _, p := range timeline {
		r := Rebased{ID: p.ID}
		r.Quote, r.Err = replan(cat, ct, pr, p, today, charges, facts)
		r.Changed = r.Err == nil && !sameQuote(r.Quote, p.Quote)
		out = append(out, r)
		if r.Err == nil && p.InProjection() {
			kept := p
			kept.Quote = r.Quote
			pr.apply(kept)
		}
	}
	return out
}

// replan prices p again against pr, on p's own date; base is the contract
// as it is now, which a refusal is compared with (see explain).
func replan(cat *Catalog, base Contract, pr Projection, p Pending, today Date, charges []TerminationCharge, facts func(Pending) CrossgradeFacts) (Quote, error) {
	if pr.CancelledBy != "" {
		return Quote{}, Errorf(KindConflict, "effectiveDate", "contract %s is cancelled by scheduled amendment %s on or before %s",
			pr.Contract.Number, pr.CancelledBy, p.Quote.EffectiveDate)
	}
	if p.Change == nil {
		if pr.Contract.Version == p.Quote.BaseVersion && slices.EqualFunc(pr.Contract.Lines, p.Quote.LinesBefore, linesEqual) {
			return p.Quote, nil
		}
		return Quote{}, Errorf(KindConflict, "contractId", "the contract changed before amendment %s, which was priced before changes could be re-priced; submit it again", p.ID)
	}
	q, err := replanOnDate(cat, pr.Contract, *p.Change, p.Quote.EffectiveDate, today, charges, facts(p))
	if err != nil {
		return Quote{}, pr.explain(err, p.Quote.EffectiveDate, func() error {
			_, err := replanOnDate(cat, base, *p.Change, p.Quote.EffectiveDate, today, charges, facts(p))
			return err
		})
	}
	if q.CancelsContract && !p.Quote.CancelsContract {
		// Approval rules judged it as a change that keeps the contract
		// (cancelsContract false); it must not become a cancellation
		// unjudged, nor owe an early-termination fee no one quoted.
		return Quote{}, Errorf(KindConflict, "payload",
			"amendment %s would now remove the last offering of contract %s, which cancels the contract; it was accepted as a change that keeps it: submit a %s instead",
			p.ID, pr.Contract.Number, Cancellation)
	}
	q.ID, q.Status = p.Quote.ID, p.Quote.Status
	return q, nil
}

// replanOnDate prices ch against ct on date, the date it was given when
// first priced. A change dated relative to a billing period (the next bill
// cycle, a crossgrade's downgrade at the end of the period) is priced as if
// asked the day before its date, which dates it the same and prorates it
// the same; failing that, or for any other change, the date is fixed, and
// checked as of today or, when the change is due, as of its own date.
func replanOnDate(cat *Catalog, ct Contract, ch Change, date, today Date, charges []TerminationCharge, facts CrossgradeFacts) (Quote, error) {
	pf := Preflight{Catalog: cat, Contract: ct, Change: ch, Charges: charges, Facts: facts}
	if ch.Action == Renewal || ch.RelativeEffectiveDate == EndOfTerm {
		// Their date is the end of the term they were accepted in, fixed
		// then: a renewal before it on the timeline moves the projected
		// expiration, not them. Planning checks it is still a term's end.
		pf.Change.EffectiveDate = date
		pf.Today = today
		if date.Before(today) {
			pf.Today = date
		}
		return PlanChange(pf)
	}
	if datedByPeriods(ch) {
		pf.Today = date.AddDays(-1)
		if q, err := PlanChange(pf); err == nil && q.EffectiveDate.Equal(date) {
			return q, nil
		}
	}
	pf.Change.EffectiveDate, pf.Change.RelativeEffectiveDate = date, ""
	pf.Today = today
	if date.Before(today) {
		pf.Today = date
	}
	q, err := PlanChange(pf)
	if err == nil && !q.EffectiveDate.Equal(date) {
		// A crossgrade dates itself: one the projection would date
		// otherwise (an upgrade turned downgrade) no longer holds as asked.
		return Quote{}, Errorf(KindConflict, "effectiveDate", "the change would now take effect on %s, not on %s as it was accepted; submit it again", q.EffectiveDate, date)
	}
	return q, err
}

// sameQuote reports whether two quotes say the same, as recorded.
func sameQuote(a, b Quote) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func linesEqual(a, b Line) bool {
	return a.OfferingID == b.OfferingID && a.RateID == b.RateID && a.RecurringAmount == b.RecurringAmount && slices.EqualFunc(a.Products, b.Products, ProductQuantity.Equal)
}

// EventRepriced records in an amendment's history that its quote changed.
const EventRepriced = "REPRICED"

// RepricedNote says, for the amendment's history, how its quote changed.
func RepricedNote(before, after Quote, version int64) string {
	total := func(q Quote) int64 {
		if q.InvoicePreview == nil {
			return 0
		}
		return q.InvoicePreview.Total
	}
	return fmt.Sprintf("re-priced against the contract as it will be on %s (quote version %d): recurring %d → %d per period, invoiced now %d → %d",
		after.EffectiveDate, version, before.RecurringAfter, after.RecurringAfter, total(before), total(after))
}
