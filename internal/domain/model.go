package domain

import (
	"slices"
	"time"
)

// Contract is a customer's contract as every surface shows it.
type Contract struct {
	ID                    string           `json:"id" db:"id"`
	Number                string           `json:"number" db:"number"`
	Ref                   int64            `json:"ref" db:"ref"`
	AccountNumber         string           `json:"accountNumber" db:"account_number"`
	CustomerID            string           `json:"customerId" db:"account_id"`
	Status                string           `json:"status" db:"status"`
	EffectiveDate         Date             `json:"effectiveDate" db:"effective_date"`
	ExpirationDate        Date             `json:"expirationDate" db:"expiration_date"`
	Currency              string           `json:"currency" db:"currency"`
	BillingPeriod         BillingPeriod    `json:"billingPeriod" db:"billing_period"`
	BillingCycleDay       int              `json:"billingCycleDay" db:"billing_cycle_day"`
	PaymentMethod         string           `json:"paymentMethod" db:"payment_method"`
	ViewingCardNumber     *string          `json:"viewingCardNumber" db:"viewing_card_number"`
	Protected             bool             `json:"protected" db:"protected"`
	ContractTerminationID *int64           `json:"contractTerminationId" db:"contract_termination_id"`
	Discount              *AppliedDiscount `json:"discount,omitempty" db:"-"`
	Referrer              *string          `json:"referrer,omitempty" db:"referrer"`
	// Renewal says what happens on ExpirationDate; TermStart is the first
	// day of the current term (EffectiveDate until the first renewal).
	Renewal         RenewalTerms `json:"renewal" db:"-"`
	TermStart       Date         `json:"termStart" db:"term_start"`
	Lines           []Line       `json:"lines" db:"-"`
	RecurringAmount int64        `json:"recurringAmount" db:"-"`
	// Segments are the contract's newest segments as a read shows them
	// (see store.SegmentsShown), in chain order; SegmentCount counts all.
	Segments        []Segment       `json:"segments" db:"-"`
	SegmentCount    int64           `json:"segmentCount" db:"segment_count"`
	PaymentSchedule PaymentSchedule `json:"paymentSchedule" db:"-"`
	Version         int64           `json:"version" db:"version"`
	CreatedOn       time.Time       `json:"createdOn" db:"created_at"`
	UpdatedOn       time.Time       `json:"updatedOn" db:"updated_at"`
	CreatedBy       string          `json:"createdBy" db:"created_by"`
	UpdatedBy       string          `json:"updatedBy" db:"updated_by"`
	// TestClockID names the test clock the contract lives on, if any;
	// ClockTime is that clock's time when the contract was read.
	TestClockID *string    `json:"testClockId,omitempty" db:"test_clock_id"`
	ClockTime   *time.Time `json:"-" db:"clock_time"`
	// LastBilled is the start of the latest period invoiced (zero before
	// the first): whether a change on a period's first day finds that
	// period billed already.
	LastBilled Date `json:"-" db:"last_billed"`
	// BilledThrough is the end of that period as invoiced (zero before the
	// first): a change within it is prorated to there, whatever the
	// contract's terms say since (see pricing.billedRest).
	BilledThrough Date `json:"-" db:"billed_through"`
}

// StartsBilledStretch reports whether d is the first day of a stretch of
// period p that billing invoices on its own (see stretchStart).
func (c Contract) StartsBilledStretch(p Period, d Date) bool {
	return c.stretchStart(p, d).Equal(d)
}

// stretchStart is the first day of the stretch of period p that billing
// invoices d in: the latest, on or before d, of the period's first day, a
// term's start inside it (see BillingTerms.periodEnd) and the day billing
// goes on from inside it (see BillingTerms.DuePeriods: a change to annual
// billing on a monthly boundary, say, whose annual stub starts there).
func (c Contract) stretchStart(p Period, d Date) Date {
	start := p.Start
	for _, s := range []Date{c.TermStart, c.BilledThrough} {
		if s.After(start) && !s.After(d) {
			start = s
		}
	}
	return start
}

// billsStretch reports whether billing, as the contract's schedule stands,
// invoices the stretch of period p that d falls in once it is due: not
// while the schedule is Terminated (a run bills nothing then, and a restart
// resumes from its own day), nor, once restarted, a stretch starting before
// the day it resumed on, which was missed and is never back-billed (see
// BillingTerms.ResumesOn).
func (c Contract) billsStretch(p Period, d Date) bool {
	s := c.PaymentSchedule
	return s.Status != ScheduleTerminated && !c.stretchStart(p, d).Before(s.ResumesOn)
}

// Now is the contract's business time: its test clock's time when it lives
// on one, else wall, the service's business clock.
func (c Contract) Now(wall time.Time) time.Time {
	if c.ClockTime != nil {
		return *c.ClockTime
	}
	return wall
}

// Segment is one stretch of a contract's life with fixed lines; every applied
// amendment starts a new one linked to its predecessor.
type Segment struct {
	AccountNumber             string    `json:"accountNumber" db:"account_number"`
	ContractNumber            string    `json:"contractNumber" db:"contract_number"`
	PreviousContractSegmentID *string   `json:"previousContractSegmentId" db:"previous_segment_id"`
	EffectiveDate             Date      `json:"effectiveDate" db:"effective_date"`
	ExpirationDate            Date      `json:"expirationDate" db:"expiration_date"`
	Currency                  []string  `json:"currency" db:"-"`
	PlanID                    string    `json:"planId" db:"plan_id"`
	BillingCycleDay           int       `json:"billingCycleDay" db:"billing_cycle_day"`
	BillingCycleType          string    `json:"billingCycleType" db:"billing_cycle_type"`
	Status                    string    `json:"status" db:"status"`
	Lines                     []Line    `json:"lines" db:"-"`
	ID                        string    `json:"id" db:"id"`
	CreatedOn                 time.Time `json:"createdOn" db:"created_at"`
	UpdatedOn                 time.Time `json:"updatedOn" db:"updated_at"`
	CreatedBy                 string    `json:"createdBy" db:"created_by"`
	UpdatedBy                 string    `json:"updatedBy" db:"updated_by"`
}

// PaymentSchedule is the contract's collection schedule and its history.
type PaymentSchedule struct {
	Status string `json:"status"`
	// InArrears is set when a collection's dunning ran out, and cleared
	// once none of the contract's invoices is unpaid.
	InArrears bool `json:"inArrears"`
	// History is the schedule's newest events, oldest first, as a read of
	// the contract holds them (store.ScheduleHistoryShown); HistoryCount
	// counts them all.
	History      []ScheduleEvent `json:"history"`
	HistoryCount int64           `json:"historyCount"`
	// ResumesOn is the day the schedule last resumed from (a restart, or a
	// renewal applied late; zero if it never did): periods starting before
	// it were missed and are never billed (see BillingTerms.ResumesOn).
	ResumesOn Date `json:"-"`
}

// ScheduleEvent records who changed a schedule's status, when and why.
type ScheduleEvent struct {
	Status  string    `json:"status" db:"status"`
	Comment *string   `json:"comment" db:"comment"`
	ActorID string    `json:"actorId" db:"actor_id"`
	Source  string    `json:"source" db:"source"`
	At      time.Time `json:"at" db:"at"`
}

// Amendment is one requested change to a contract and where it stands.
type Amendment struct {
	ID             string `json:"id" db:"id"`
	ContractID     string `json:"contractId" db:"contract_id"`
	ContractNumber string `json:"contractNumber" db:"contract_number"`
	Action         Action `json:"action" db:"action"`
	Status         string `json:"status" db:"status"`
	EffectiveDate  Date   `json:"effectiveDate" db:"effective_date"`
	Quote          Quote  `json:"quote" db:"-"`
	// QuoteVersion counts the quote's pricings: 1 as opened, one more each
	// time an earlier change on the contract's timeline re-priced it.
	QuoteVersion int64        `json:"quoteVersion" db:"quote_version"`
	MatchedRule  *MatchedRule `json:"matchedRule,omitempty" db:"-"`
	// ReviewExpiresAt is when a change held for review expires undecided.
	ReviewExpiresAt *time.Time       `json:"reviewExpiresAt,omitempty" db:"review_expires_at"`
	Source          string           `json:"source" db:"source"`
	SubmittedBy     string           `json:"submittedBy" db:"submitted_by"`
	WorkflowID      string           `json:"workflowId" db:"workflow_id"`
	CreatedOn       time.Time        `json:"createdOn" db:"created_at"`
	UpdatedOn       time.Time        `json:"updatedOn" db:"updated_at"`
	History         []AmendmentEvent `json:"history" db:"-"`
	Invoice         *Invoice         `json:"invoice,omitempty" db:"-"`
}

// ActedBy reports whether the amendment's history records status taken by
// actor: a decision or withdrawal made once, asked for again.
func (am Amendment) ActedBy(status, actor string) bool {
	return slices.ContainsFunc(am.History, func(e AmendmentEvent) bool { return e.Status == status && e.ActorID == actor })
}

// MatchedRule names the approval rule that held an amendment for review.
type MatchedRule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AmendmentEvent records one status change: when, by whom, from where.
type AmendmentEvent struct {
	Status  string    `json:"status" db:"status"`
	ActorID string    `json:"actorId" db:"actor_id"`
	Source  string    `json:"source" db:"source"`
	Note    *string   `json:"note,omitempty" db:"note"`
	At      time.Time `json:"at" db:"at"`
}

// Invoice statuses: an invoice is issued OPEN, or CREDIT when it credits
// (its credit note carries the amount); a collection makes an open one PAID
// or UNPAID.
const (
	InvoiceOpen   = "OPEN"
	InvoiceCredit = "CREDIT"
	InvoicePaid   = "PAID"
	InvoiceUnpaid = "UNPAID"
)

// Invoice is an amount billed (or credited, when negative) on a contract.
type Invoice struct {
	ID          string        `json:"id" db:"id"`
	ContractID  string        `json:"contractId" db:"contract_id"`
	AmendmentID *string       `json:"amendmentId,omitempty" db:"amendment_id"`
	Kind        string        `json:"kind" db:"kind"`
	PeriodStart Date          `json:"periodStart" db:"period_start"`
	PeriodEnd   Date          `json:"periodEnd" db:"period_end"`
	Currency    string        `json:"currency" db:"currency"`
	Lines       []InvoiceLine `json:"lines" db:"-"`
	Total       int64         `json:"total" db:"total"`
	// AmountDue is what is still to collect: the total less payments and
	// credits applied; 0 on a credit.
	AmountDue int64     `json:"amountDue" db:"amount_due"`
	Status    string    `json:"status" db:"status"`
	CreatedOn time.Time `json:"createdOn" db:"created_at"`
}
