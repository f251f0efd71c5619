package domain

// Catch-up renewals: a contract created back-dated with AUTO_RENEW terms
// renews at once, term after term, for every term end on or before today
// (each term's workflow watches the next): a term workflow, an amendment
// workflow and their writes each. Without a bound a request of 20 contracts
// from 5 years back on 1-month terms made the worker apply some 1,000
// renewals over a minute (60 a contract), and one of 500 would have made
// 30,000, every other tenant's change queued behind them.
const (
	// MaxCatchUpRenewals is how many renewals a new contract may take at
	// once to reach today. 12 is a year of monthly terms, and as many as
	// billing catches up a run (MaxPeriodsPerRun). Every contract on terms
	// of 6 months or more is within it however far back (MaxBackdateYears)
	// it starts, and so is every contract whose first term ended less than
	// a year ago. A contract taken over from another system is given the
	// term it is in now, which takes none.
	MaxCatchUpRenewals = 12
	// MaxCatchUpRenewalsPerRequest is how many such renewals the contracts
	// of one request may take in all: a hundred contracts one term behind,
	// or eight at MaxCatchUpRenewals. On a shared two-core machine the
	// worker applied eight such contracts' 96 renewals in 6.4 s (the
	// probe's, about 17 a second), so a request's catch-up is done well
	// within the 30 s a change waits for its answer (AMENDMENT_WAIT):
	// other tenants' changes sent meanwhile are still answered at once.
	// More contracts with history are sent over several requests.
	MaxCatchUpRenewalsPerRequest = 100
)

// CatchUpRenewals is how many renewals a contract created on p would take
// at once on today: one for each end of a term on or before today, the
// first its expirationDate, each next one NextTermEnd of it. A contract
// that does not auto-renew takes none; one that expires, or is evergreen,
// ends its term at most once.
func CatchUpRenewals(p ContractPlan, today Date) int {
	if p.Renewal.Mode != AutoRenew {
		return 0
	}
	n := 0
	for end := p.ExpirationDate; !end.After(today); end = NextTermEnd(p.EffectiveDate, end, max(1, p.Renewal.TermMonths)) {
		n++
	}
	return n
}

// CheckCatchUp refuses requested contracts (planned as plans) that would
// take more renewals at once to reach today than a contract
// (MaxCatchUpRenewals) or a request (MaxCatchUpRenewalsPerRequest) may,
// naming the dates and terms that make them and the way out.
func CheckCatchUp(requested []RequestedContract, plans []ContractPlan, today Date) error {
	total := 0
	for i, p := range plans {
		n := CatchUpRenewals(p, today)
		if n > MaxCatchUpRenewals {
			r := requested[i]
			from := ""
			if r.termMonthsDefault() {
				from = " (the tenant's default renewal terms, from its catalog)"
			}
			return Errorf(KindUnprocessable, r.Field+".expirationDate",
				"%s.expirationDate %s, with effectiveDate %s and renewal.termMonths %d%s, would renew the contract %d times at once to reach today (%s), "+
					"more than the %d a new contract may; a contract being imported should be given the term it is in now: "+
					"its current term's start as effectiveDate and its end as expirationDate",
				r.Field, p.ExpirationDate, p.EffectiveDate, p.Renewal.TermMonths, from, n, today, MaxCatchUpRenewals)
		}
		total += n
	}
	if total > MaxCatchUpRenewalsPerRequest {
		return Errorf(KindUnprocessable, "actions[].createContractWithPlan",
			"actions[].createContractWithPlan: the request's contracts would renew %d times in all at once to reach today (%s), more than the %d one request may; "+
				"send them in smaller requests, or give a contract being imported the term it is in now: "+
				"its current term's start as effectiveDate and its end as expirationDate",
			total, today, MaxCatchUpRenewalsPerRequest)
	}
	return nil
}
