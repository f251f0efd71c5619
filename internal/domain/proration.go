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

// Prorate charges (or, when negative, credits) amount for the part of period
// p from d to its end: amount × days(d, End) / days(Start, End), rounded half
// away from zero to whole minor units, checked against the limits.
func (l Limits) Prorate(field string, amount int64, p Period, d Date) (int64, error) {
	return l.prorate(field, amount, int64(d.DaysUntil(p.End)), int64(p.Days()))
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
