package domain

import (
	"fmt"
	"strconv"
)

// ScheduleAction is a change a client asks of a payment schedule (DDCMS).
type ScheduleAction string

const (
	CancelSchedule  ScheduleAction = "cancel"
	RestartSchedule ScheduleAction = "restart"
)

// Apply decides the status a schedule moves to. Protected contracts refuse
// every change made through the API. A contract no longer active (canceled,
// expired) keeps its schedule as it is once it owes nothing; while it still
// owes (an early-termination fee, a period it was billed for), its schedule
// is what decides whether that is collected, so it can still be restarted
// (the fee of a contract cancelled while the business had its schedule
// cancelled would otherwise never be collected) and cancelled again.
// Otherwise only the opposite status can be left (cancel an Active
// schedule, restart a Terminated one). Only staff keys change a schedule:
// the API refuses a customer key.
func (a ScheduleAction) Apply(contractStatus, status string, protected, owed bool) (string, error) {
	if protected {
		return "", Errorf(KindForbidden, "", "the contract is protected and cannot be changed through the API")
	}
	if contractStatus != ContractActive && !owed {
		// The seed's words (seed fidelity), though an ended contract that
		// still owes is let through.
		return "", Errorf(KindInvalid, "", "The contract is %s; only an active contract's schedule can be cancelled or restarted.", contractStatus)
	}
	switch a {
	case CancelSchedule:
		if status != ScheduleActive {
			return "", Errorf(KindInvalid, "", "The contract schedule is already Terminated; only an Active schedule can be cancelled.")
		}
		return ScheduleTerminated, nil
	case RestartSchedule:
		if status != ScheduleTerminated {
			return "", Errorf(KindInvalid, "", "The contract schedule is already Active; only a Terminated schedule can be restarted.")
		}
		return ScheduleActive, nil
	}
	return "", Errorf(KindInvalid, "", "unknown schedule action %q", a)
}

// CollectionOutcome is how one collection attempt ended.
type CollectionOutcome string

const (
	CollectionSucceeded CollectionOutcome = "COLLECTED"
	CollectionDeclined  CollectionOutcome = "DECLINED" // the payment method was refused
	CollectionFailed    CollectionOutcome = "FAILED"   // the provider stayed unavailable
	CollectionSkipped   CollectionOutcome = "SKIPPED"  // already paid, or the schedule no longer collects
)

// EndsDunning reports whether the attempt leaves nothing to retry.
func (o CollectionOutcome) EndsDunning() bool {
	return o == CollectionSucceeded || o == CollectionSkipped
}

// DunningDays are the days after the due date on which a failed collection is
// retried, or after the day the first collection failed when that came
// later (an invoice billed late); when the last retry fails too, the
// schedule is in arrears.
var DunningDays = []int{1, 3, 7}

// BillingTerms decide when a contract's schedule collects. Periods are billed
// in advance on their first day and follow PeriodContaining's cycles anchored
// on the effective date; a contract whose effective or expiration date falls
// inside a cycle bills a stub for the part it covers, and so does each side
// of a term start inside a cycle, so that a renewed term bills from its
// first day at its own prices.
type BillingTerms struct {
	EffectiveDate  Date
	ExpirationDate Date
	CycleDay       int
	Period         BillingPeriod
	// TermStart is the current term's first day: zero, or the effective
	// date, during the first term; a renewal's date after one.
	TermStart Date
	// Evergreen contracts roll on past ExpirationDate, the end of their
	// minimum term, until they are cancelled: nothing stops or cuts their
	// periods there.
	Evergreen bool
	// ResumesOn is when a restarted schedule resumes: periods starting
	// earlier were missed while it was Terminated and are never billed.
	ResumesOn Date
	// BilledThrough is the end of the latest period already invoiced: the
	// contract is billed up to that day.
	BilledThrough Date
}

// DuePeriod is a span to bill: Billed is the part of Cycle the contract
// covers, the whole cycle except for a stub.
type DuePeriod struct {
	Billed Period
	Cycle  Period
}

// DuePeriods lists, oldest first, the periods starting on or before asOf that
// are still to be billed: not before the effective or resume date, from the
// day the contract is billed through, and, unless the contract is
// evergreen, before the expiration date. asOf bounds the list even for an
// evergreen contract. A cycle billed only in part is due from that day on:
// its first days were billed in another shape (a monthly contract that
// changed to annual billing, a term that ended inside it and was then
// extended), and the rest is a stub of the cycle as it is now.
func (t BillingTerms) DuePeriods(asOf Date) []DuePeriod {
	from := later(later(t.EffectiveDate, t.ResumesOn), t.BilledThrough)
	var due []DuePeriod
	for start := t.EffectiveDate; t.covers(start) && !start.After(asOf); {
		cycle := PeriodContaining(t.EffectiveDate, t.CycleDay, t.Period, start)
		billed := Period{Start: start, End: t.periodEnd(start, cycle.End)}
		start = billed.End
		if billed.Start.Before(t.BilledThrough) && billed.End.After(t.BilledThrough) {
			billed.Start = t.BilledThrough
		}
		if !billed.Start.Before(from) && !billed.Start.After(asOf) {
			due = append(due, DuePeriod{Billed: billed, Cycle: cycle})
		}
	}
	return due
}

// covers reports whether the contract runs on day.
func (t BillingTerms) covers(day Date) bool {
	return t.Evergreen || day.Before(t.ExpirationDate)
}

// periodEnd is where the period starting on start and running to the end
// of its cycle, cycleEnd, stops: at a term start inside it (each term is
// invoiced on its own, since invoices are unique per period start) or at
// the expiration date of a contract that is not evergreen.
func (t BillingTerms) periodEnd(start, cycleEnd Date) Date {
	end := cycleEnd
	if t.TermStart.After(start) && t.TermStart.Before(end) {
		end = t.TermStart
	}
	if !t.Evergreen && t.ExpirationDate.Before(end) {
		end = t.ExpirationDate
	}
	return end
}

func later(a, b Date) Date {
	if b.After(a) {
		return b
	}
	return a
}

// Charge is what the period costs at amount per full cycle: the whole amount,
// or for a stub its share by days, rounded half away from zero; checked
// against the limits, and field names what a refusal points at.
func (p DuePeriod) Charge(lim Limits, field string, amount int64) (int64, error) {
	days, cycleDays := p.Billed.Days(), p.Cycle.Days()
	if days == cycleDays {
		return amount, lim.Amount(field, amount)
	}
	return lim.prorate(field, amount, int64(days), int64(cycleDays))
}

// RecurringCharges prices one period of a contract's lines, each rounded on
// its own, and returns the invoice lines with their total. Discounts, once
// contracts carry them, apply here per line before the total is taken. A
// line or total beyond the limits is refused, never wrapped.
func RecurringCharges(lim Limits, lines []Line, p DuePeriod) ([]InvoiceLine, int64, error) {
	out := make([]InvoiceLine, len(lines))
	for i, l := range lines {
		desc := fmt.Sprintf("%s, %s to %s", l.OfferingID, p.Billed.Start, p.Billed.End.AddDays(-1))
		if p.Billed.Days() != p.Cycle.Days() {
			desc += fmt.Sprintf(" (%d of %d days)", p.Billed.Days(), p.Cycle.Days())
		}
		amount, err := p.Charge(lim, "lines["+strconv.Itoa(i)+"]", l.RecurringAmount)
		if err != nil {
			return nil, 0, err
		}
		out[i] = InvoiceLine{Description: desc, Amount: amount}
	}
	total, err := sumInvoiceLines(lim, "total", out)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
