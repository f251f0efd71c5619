package domain

// Period is a billing period [Start, End).
type Period struct {
	Start Date `json:"start"`
	End   Date `json:"end"`
}

// Days is the period's length in days.
func (p Period) Days() int { return p.Start.DaysUntil(p.End) }

// PeriodContaining finds the billing period that holds d. Periods are
// `months` long, start on the billing cycle day (the month's last day in
// shorter months) and step from the month of anchor, the contract's start.
func PeriodContaining(anchor Date, cycleDay int, period BillingPeriod, d Date) Period {
	months := period.Months()
	boundary := func(k int) Date { return AddMonthsClamped(anchor.Year(), anchor.Month(), k*months, cycleDay) }
	elapsed := (d.Year()-anchor.Year())*12 + int(d.Month()-anchor.Month())
	k := floorDiv(elapsed, months)
	for boundary(k).After(d) {
		k--
	}
	for !boundary(k + 1).After(d) {
		k++
	}
	return Period{Start: boundary(k), End: boundary(k + 1)}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Prorate charges (or, when negative, credits) amount, the price of the
// whole period p, for part of it: amount × days(part) / days(p), rounded
// half away from zero to whole minor units, checked against the limits.
func (l Limits) Prorate(field string, amount int64, p, part Period) (int64, error) {
	return l.prorate(field, amount, int64(part.Days()), int64(p.Days()))
}

// runningShare prorates the steps of one change to a period's price so that
// their rounded amounts sum to the rounded change of the whole price: each
// step is share(price after it) − share(price before it). Rounding each step
// on its own would let a change split into steps (a seat increase after a
// discounted upgrade, then a cancellation) credit a unit more than it
// charged; this way changes in one period charge and credit exactly their
// net change, and an upgrade and a downgrade back net to zero.
type runningShare struct {
	lim     Limits
	field   string
	p, part Period
	price   int64 // the period's price so far
	share   int64 // its share for part, rounded
}

func newRunningShare(lim Limits, field string, p, part Period, price int64) (*runningShare, error) {
	share, err := lim.Prorate(field, price, p, part)
	return &runningShare{lim: lim, field: field, p: p, part: part, price: price, share: share}, err
}

// step changes the price by delta and returns the amount that charges (or,
// when negative, credits) for the part of the period.
func (r *runningShare) step(delta int64) (int64, error) {
	price, err := r.lim.Add(r.field, r.price, delta)
	if err != nil {
		return 0, err
	}
	share, err := r.lim.Prorate(r.field, price, r.p, r.part)
	if err != nil {
		return 0, err
	}
	amount := share - r.share
	r.price, r.share = price, share
	return amount, nil
}

// divRoundHalfUp divides rounding halves away from zero, so a credit is the
// exact mirror of the matching charge. It works on the remainder, so it
// cannot overflow.
func divRoundHalfUp(num, den int64) int64 {
	q, r := num/den, num%den
	if r < 0 {
		r = -r
	}
	if r >= den-r { // r ≥ den/2 without computing 2r
		if num < 0 {
			return q - 1
		}
		return q + 1
	}
	return q
}
