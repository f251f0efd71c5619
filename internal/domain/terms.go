package domain

import (
	"fmt"
	"slices"
)

// Renewal modes: what happens on a contract's expiration date.
const (
	// AutoRenew opens a RENEWAL amendment NoticeDays before the term ends;
	// applied, it starts a new term of TermMonths at uplifted prices.
	AutoRenew = "AUTO_RENEW"
	// Expire ends the contract on its expiration date.
	Expire = "EXPIRE"
	// Evergreen keeps the contract going past its expiration date, the end
	// of its minimum term, period by period until it is cancelled.
	Evergreen = "EVERGREEN"
)

// SystemActorID and SystemSource record what the service does on its own,
// such as opening a renewal or ending a term, where an actor's id is kept.
const (
	SystemActorID = "00000000-0000-0000-0000-000000000000"
	SystemSource  = "SCHEDULER"
)

// RenewalModes lists every renewal mode.
var RenewalModes = []string{AutoRenew, Expire, Evergreen}

// Bounds of renewal terms, as the database checks them.
const (
	MaxTermMonths  = 120
	MaxNoticeDays  = 365
	MaxUpliftBasis = 10000 // ±100 %
	// DefaultTermMonths and DefaultNoticeDays fill terms that leave them out.
	DefaultTermMonths = 12
	DefaultNoticeDays = 30
)

// RenewalTerms say what happens when a contract's term ends. The uplift is
// in basis points so that money stays integral: 350 raises every unit
// price by 3.5 %.
type RenewalTerms struct {
	Mode              string `json:"mode"`
	TermMonths        int    `json:"termMonths"`
	UpliftBasisPoints int    `json:"upliftBasisPoints"`
	NoticeDays        int    `json:"noticeDays"`
}

// DefaultRenewalTerms are the terms of a tenant that set none.
var DefaultRenewalTerms = RenewalTerms{Mode: Expire, TermMonths: DefaultTermMonths, NoticeDays: DefaultNoticeDays}

// WithDefaults fills the numbers a request left out (zero) from the defaults.
// Zero means left out, as stored terms have always held it: a request that
// gives termMonths or noticeDays gives 1 or more (the API refuses 0 when it
// decodes it), so no number a client sends is replaced.
func (t RenewalTerms) WithDefaults() RenewalTerms {
	if t.TermMonths == 0 {
		t.TermMonths = DefaultTermMonths
	}
	if t.NoticeDays == 0 {
		t.NoticeDays = DefaultNoticeDays
	}
	return t
}

// Validate checks terms as a request gave them (after WithDefaults); field
// is their request path.
func (t RenewalTerms) Validate(field string) error {
	switch {
	case !slices.Contains(RenewalModes, t.Mode):
		return Errorf(KindInvalid, field+".mode", "%s.mode %q is not one of %v", field, t.Mode, RenewalModes)
	case t.TermMonths < 1 || t.TermMonths > MaxTermMonths:
		return Errorf(KindInvalid, field+".termMonths", "%s.termMonths must be from 1 to %d", field, MaxTermMonths)
	case t.UpliftBasisPoints < -MaxUpliftBasis || t.UpliftBasisPoints > MaxUpliftBasis:
		return Errorf(KindInvalid, field+".upliftBasisPoints", "%s.upliftBasisPoints must be from %d to %d", field, -MaxUpliftBasis, MaxUpliftBasis)
	case t.NoticeDays < 1 || t.NoticeDays > MaxNoticeDays:
		return Errorf(KindInvalid, field+".noticeDays", "%s.noticeDays must be from 1 to %d", field, MaxNoticeDays)
	}
	return nil
}

// NoticeDate is when the renewal of a term ending on end opens.
func (t RenewalTerms) NoticeDate(end Date) Date { return end.AddDays(-t.NoticeDays) }

// ProjectOn is ct as it will be on `on`: Project, then the end of the
// term carried out as EndTerm will carry it out. A contract that is to
// EXPIRE is expired from its expiration date, the first day its term no
// longer covers. An AUTO_RENEW one stays active: its terms are those of the
// renewals accepted on its timeline by then (one not yet opened or still in
// review is not projected, as no renewal's prices are known before it is
// opened). An EVERGREEN one runs on until it is cancelled.
func ProjectOn(ct Contract, timeline []Pending, on Date) Projection {
	pr := Project(ct, timeline, on)
	if c := &pr.Contract; c.Status == ContractActive && c.Renewal.Mode == Expire && !c.ExpirationDate.IsZero() && !on.Before(c.ExpirationDate) {
		c.Status = ContractExpired
	}
	return pr
}

// Outcomes of a term's end: the contract expired; an accepted renewal
// applies on the date; or nothing was left to do (the term had already
// ended or been renewed, or the contract runs on: evergreen, or no longer
// active).
const (
	TermExpired   = "EXPIRED"
	TermRenewing  = "RENEWING"
	TermUnchanged = "UNCHANGED"
)

// EndOfTerm is the relative effective date of a change that takes effect
// on the contract's expiration date: the first day its current term no
// longer covers.
const EndOfTerm = "END_OF_TERM"

// Renewal is the action of the amendment that starts a contract's next
// term; the service opens it, never a client.
const Renewal Action = "RENEWAL"

// RenewalTermsChange is the self-service action that changes a contract's
// renewal terms.
const RenewalTermsChange Action = "RENEWAL_TERMS_CHANGE"

// RenewalQuote is what a renewal does besides uplifting prices: the term it
// starts.
type RenewalQuote struct {
	TermStart         Date `json:"termStart"`
	TermEnd           Date `json:"termEnd"`
	UpliftBasisPoints int  `json:"upliftBasisPoints"`
}

// NextTermEnd is the end of the term that starts on end and lasts months.
// Month ends stay month ends: when end is a month's last day and the
// contract started (on start) later in its month than that day, say on the
// 31st or on Feb 29, the next end takes start's day again where the month
// has it, so a clamped end does not shift every later one.
func NextTermEnd(start, end Date, months int) Date {
	day := end.Day()
	if end.AddDays(1).Day() == 1 && start.Day() > day {
		day = start.Day()
	}
	return AddMonthsClamped(end.Year(), end.Month(), months, day)
}

// renewedTermEnd is the end of the term that ct's renewal on date, the end
// of its term, would start; one after LastDate is refused.
func renewedTermEnd(ct Contract, date Date) (Date, error) {
	end := NextTermEnd(ct.EffectiveDate, date, ct.Renewal.TermMonths)
	if end.After(LastDate) {
		return Date{}, Errorf(KindUnprocessable, "", "contract %s cannot renew for %d months: its new term would end on %s, after %s, the last date the service supports",
			ct.Number, ct.Renewal.TermMonths, end, LastDate)
	}
	return end, nil
}

// renewsForEndOfTerm refuses a change at the end of ct's term, end, that
// could only apply to a renewed term that will never start. Any change at
// the end of the term but a cancellation comes after the renewal and
// applies to the renewed term (termRank); when ct auto-renews but its new
// term would end after LastDate, PlanRenewal refuses the renewal every time
// it is tried, the contract expires on end, and the change, accepted, would
// only fail then. So it is refused now, as on an EXPIRE contract
// (endOfTerm). A CANCELLATION at the end of the term is still taken: it
// comes before the renewal and ends the contract on end whether or not it
// could have renewed. ct is the contract as it will be on end, so terms
// changed on the timeline before then count (re-basing fails the change if
// a later terms change makes the renewal impossible), and a projection that
// already renews on end (its term starting there) has nothing to refuse.
func renewsForEndOfTerm(ct Contract, ch Change, end Date) error {
	if ch.Action == Cancellation || ct.Renewal.Mode != AutoRenew || !end.Equal(ct.ExpirationDate) {
		return nil
	}
	if _, err := renewedTermEnd(ct, end); err != nil {
		return Errorf(KindUnprocessable, "relativeEffectiveDate", "%s, so it expires at the end of its term on %s: only a cancellation can take effect then",
			err.(*Error).Message, end)
	}
	return nil
}

// PlanRenewal prices the renewal of ct's term at its end, date: the same
// lines at prices uplifted by the contract's terms, and a new term. It
// charges nothing now: billing splits its periods at a term's start and
// bills the new term at the new prices. A new term that would end after
// LastDate is refused: the contract expires at its end, saying why.
func PlanRenewal(cat *Catalog, ct Contract, date Date) (Quote, error) {
	if ct.Status != ContractActive {
		return Quote{}, Errorf(KindConflict, "contractId", "contract %s is %s and cannot renew", ct.Number, ct.Status)
	}
	if ct.Renewal.Mode != AutoRenew {
		return Quote{}, Errorf(KindConflict, "contractId", "contract %s does not auto-renew (its renewal mode is %s)", ct.Number, ct.Renewal.Mode)
	}
	if !date.Equal(ct.ExpirationDate) {
		return Quote{}, Errorf(KindConflict, "effectiveDate", "contract %s's term ends on %s, not on %s", ct.Number, ct.ExpirationDate, date)
	}
	end, err := renewedTermEnd(ct, date)
	if err != nil {
		return Quote{}, err
	}
	lim := cat.MoneyLimits()
	after, err := UpliftLines(lim, PricedLines(cat, ct.Lines), ct.Renewal.UpliftBasisPoints, "lines")
	if err != nil {
		return Quote{}, err
	}
	pc := pricing{ct: ct, action: Renewal, after: after, newPeriod: ct.BillingPeriod, effective: date, period: termEndPeriod(ct, date), field: "payload"}
	if pc.discount, err = keptDiscount(lim, ct.Discount, after, date); err != nil {
		return Quote{}, err
	}
	q, err := pc.quote(lim)
	if err != nil {
		return Quote{}, err
	}
	q.Renewal = &RenewalQuote{TermStart: date, TermEnd: end, UpliftBasisPoints: ct.Renewal.UpliftBasisPoints}
	return q, nil
}

// termEndPeriod is the period a change on the term's end, date, is priced
// over: the one billed last, which ends on the expiration date (see
// BillingTerms.DuePeriods). The change takes effect as it ends, so nothing
// is prorated: nothing after it was charged.
func termEndPeriod(ct Contract, date Date) Period {
	last := PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, ct.BillingPeriod, date.AddDays(-1))
	return Period{Start: last.Start, End: date}
}

// PlanTermsChange prices a RENEWAL_TERMS_CHANGE: the lines stay, the terms
// change from its date. ct is the contract as it will be on that date. A
// mode-only change (a customer key's, ch.ModeOnly) takes its mode from the
// request and termMonths, upliftBasisPoints and noticeDays from ct, so
// planned again (re-basing) after the business changes them before its
// date, it keeps the business's numbers rather than putting back the ones
// the contract had when it was asked. A customer's change (customer) is held
// to the terms the contract will have then (customerTerms): of a mode-only
// one, the numbers the request gave (asked, when known) and the mode; of one
// recorded before changes were mode-only, all its terms, as then.
func PlanTermsChange(cat *Catalog, ct Contract, ch Change, today Date, customer bool, asked *TermsAsked) (Quote, error) {
	effective, period, err := changeableOn(ct, ch, today)
	if err != nil {
		return Quote{}, err
	}
	set := ct.Renewal.WithDefaults()
	terms := ch.Renewal.WithDefaults()
	if ch.ModeOnly {
		terms = set
		terms.Mode = ch.Renewal.Mode
	}
	if ct.Renewal.Mode == Evergreen && terms.Mode != Evergreen && !effective.Before(ct.ExpirationDate) {
		// Its term ended on the expiration date: there is no end left to
		// renew or expire at, only a cancellation.
		return Quote{}, Errorf(KindUnprocessable, "renewal.mode",
			"contract %s is evergreen past its minimum term (%s): it runs until it is cancelled, and its renewal mode can no longer change", ct.Number, ct.ExpirationDate)
	}
	if customer {
		want := terms
		if ch.ModeOnly {
			want = asked.over(terms)
		}
		if err := customerTerms(set, want, "renewal", fmt.Sprintf("contract %s, on %s,", ct.Number, effective)); err != nil {
			if ch.ModeOnly {
				err.Message += "; leave termMonths, upliftBasisPoints and noticeDays out and they stay the contract's"
			}
			return Quote{}, err
		}
	}
	lim := cat.MoneyLimits()
	pc := pricing{ct: ct, action: ch.Action, after: ct.Lines, newPeriod: ct.BillingPeriod, effective: effective, period: period, field: "renewal", discount: ct.Discount}
	q, err := pc.quote(lim)
	if err != nil {
		return Quote{}, err
	}
	q.Terms = &terms
	return q, nil
}

// String is how terms read in messages and notes.
func (t RenewalTerms) String() string {
	if t.Mode != AutoRenew {
		return t.Mode
	}
	return fmt.Sprintf("%s every %d months, %+d basis points, notice %d days", t.Mode, t.TermMonths, t.UpliftBasisPoints, t.NoticeDays)
}
