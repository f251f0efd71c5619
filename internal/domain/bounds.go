package domain

import "time"

// MaxDateYear is the last year of the dates the service takes and makes:
// the API refuses a date past it as input, and the service makes none past
// it either, since no clock, projection (?asOf) or billing run reaches one
// (see LastDate).
const MaxDateYear = 2999

// LastDate is the last date the service supports. A change the service
// would date after it (the next bill cycle of an evergreen contract in
// December 2999, say) is refused, and so is a renewal whose new term would
// end after it: the contract expires at the end of its term instead, saying
// why, rather than taking changes dated where they could never apply. A
// contract's expiration date, given (the API's limits) or renewed, is never
// after it, and nor is a change at the end of its term.
var LastDate = NewDate(MaxDateYear, time.December, 31)

// Date bounds of a new contract, documented in the README's input limits.
// Without them a contract from 2000 to 9999 was accepted, and its first
// billing run issued every period since 2000.
const (
	// MaxBackdateYears is how far before today a contract may start: enough
	// to record a contract taken over mid-term from another system; the
	// periods it has not been billed for are billed MaxPeriodsPerRun a run.
	MaxBackdateYears = 5
	// MaxLeadYears is how far after today a contract may start.
	MaxLeadYears = 1
	// MaxTermYears is the longest term from effective to expiration date.
	MaxTermYears = 10
	// MaxPeriodsPerRun is how many periods one billing run invoices per
	// contract, oldest first. A backlog (a contract that started before its
	// schedule was billed, or a schedule restarted with periods due) is then
	// billed over successive runs, one a day from the daily schedule, rather
	// than all at once.
	MaxPeriodsPerRun = 12
)

// CheckContractDates holds a requested contract's dates to the bounds above,
// relative to today. field is the item's request path.
func CheckContractDates(nc NewContract, field string, today Date) error {
	earliest := NewDate(today.Year()-MaxBackdateYears, today.Month(), today.Day())
	latest := NewDate(today.Year()+MaxLeadYears, today.Month(), today.Day())
	eff, exp := nc.EffectiveDate, nc.ExpirationDate
	switch {
	case eff.Before(earliest):
		return Errorf(KindInvalid, field+".effectiveDate", "%s.effectiveDate %s is more than %d year(s) ago (earliest %s)", field, eff, MaxBackdateYears, earliest)
	case eff.After(latest):
		return Errorf(KindInvalid, field+".effectiveDate", "%s.effectiveDate %s is more than %d year(s) ahead (latest %s)", field, eff, MaxLeadYears, latest)
	case exp.After(NewDate(eff.Year()+MaxTermYears, eff.Month(), eff.Day())):
		return Errorf(KindInvalid, field+".expirationDate", "%s.expirationDate %s makes a term longer than %d years", field, exp, MaxTermYears)
	}
	return nil
}

// CapPeriods keeps the oldest MaxPeriodsPerRun of a run's due periods.
func CapPeriods(due []DuePeriod) []DuePeriod {
	return due[:min(len(due), MaxPeriodsPerRun)]
}
