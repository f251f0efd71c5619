package flow

import (
	"fmt"
	"slices"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/payments"
)

// BillingRunInput asks for a tenant's periods due by AsOf to be billed.
// AfterRef, Totals and Progress carry a run across continue-as-new.
type BillingRunInput struct {
	TenantID string
	AsOf     domain.Date
	AfterRef int64
	Totals   BillingTotals
	Progress BillingRunProgress
	// TestClockID bills the contracts on that test clock, at its time;
	// without it a run bills the contracts on the wall clock.
	TestClockID string `json:",omitempty"`
}

// BillingProgressQuery names the query a billing run answers with its
// BillingRunProgress and Totals (as a BillingRunState).
const BillingProgressQuery = "progress"

// BillingRunProgress is how far a run has gone through the tenant's
// contracts. A run started before runs counted them has Due zero.
type BillingRunProgress struct {
	Due       int       `json:"due"`     // contracts in effect by AsOf the run goes through
	Checked   int       `json:"checked"` // of those, the ones invoiced and whose first collections have ended
	StartedAt time.Time `json:"startedAt"`
}

// BillingRunState is what the progress query answers.
type BillingRunState struct {
	AsOf domain.Date `json:"asOf"`
	BillingRunProgress
	BillingTotals
}

// BillingRun is a run as the client describes it: its state, and whether
// and when it ended.
type BillingRun struct {
	BillingRunState
	// Status is Temporal's: RUNNING, COMPLETED, FAILED, TERMINATED...
	Status     string
	FinishedAt *time.Time
}

// BillingTotals count what a billing run did.
type BillingTotals struct {
	Invoiced  int `json:"invoiced"`  // invoices issued
	Collected int `json:"collected"` // first collections captured
	Declined  int `json:"declined"`  // first collections declined; dunning retries them
	Failed    int `json:"failed"`    // first collections the provider never answered; dunning retries them
	Skipped   int `json:"skipped"`   // due periods not billed as the schedule is Terminated, and invoices no longer to collect
	// Refused lists contracts not billed because an amount is beyond the
	// tenant's money limits (stored before amounts were checked).
	Refused []string `json:"refused,omitempty"`
}

// Count adds one collection's outcome.
func (t *BillingTotals) Count(o domain.CollectionOutcome) {
	switch o {
	case domain.CollectionSucceeded:
		t.Collected++
	case domain.CollectionDeclined:
		t.Declined++
	case domain.CollectionFailed:
		t.Failed++
	case domain.CollectionSkipped:
		t.Skipped++
	}
}

// InvoicePageInput asks for one page of a tenant's contracts to be invoiced.
type InvoicePageInput struct {
	TenantID string
	// RunID names the billing run, whose invoices are counted as its own.
	RunID    string
	AsOf     domain.Date
	AfterRef int64
	Limit    int
	// TestClockID is the run's test clock (see BillingRunInput).
	TestClockID string `json:",omitempty"`
	// CompactRefs asks for the invoices to collect in InvoicePage.Refs, which
	// a worker of a release before it cannot read: only runs that recorded
	// the change that made them ask (a workflow version such a worker
	// refuses to replay) ask.
	CompactRefs bool `json:",omitempty"`
}

// InvoicePage is what invoicing one page did, and the invoices it leaves to
// collect.
type InvoicePage struct {
	// Checked counts the contracts on the page.
	Checked  int
	Invoiced int
	// Skipped counts due periods not billed because the schedule is Terminated.
	Skipped int
	// Refused names contracts not billed because an amount is beyond the limits.
	Refused []string
	// Collect or, when the input asked for CompactRefs, Refs lists the
	// invoices to collect (a worker of a release before CompactRefs fills
	// Collect whatever was asked); ToCollect reads either.
	Collect []InvoiceRef `json:",omitempty"`
	Refs    InvoiceRefs  `json:",omitempty"`
	LastRef int64
	More    bool
}

// ToCollect lists the page's invoices to collect.
func (p InvoicePage) ToCollect() InvoiceRefs {
	if p.Refs != nil {
		return p.Refs
	}
	return p.Collect
}

// InvoiceRef names an invoice to collect (and is a dunning workflow's input).
type InvoiceRef struct {
	TenantID   string
	ContractID string
	InvoiceID  string
	DueDate    domain.Date
	// TestClockID is the contract's test clock, if it lives on one: its
	// dunning waits on that clock.
	TestClockID string `json:",omitempty"`
}

// CollectionKey is the payment provider's idempotency key of collection
// attempt number attempt on an invoice (its steps add their names).
func CollectionKey(inv InvoiceRef, attempt int) string {
	return fmt.Sprintf("invoice/%s/attempt/%d", inv.InvoiceID, attempt)
}

// CollectInvoicesInput asks for collection attempt number Attempt (0 the
// billing run's, n the n-th dunning retry) on each of a tenant's Invoices,
// which live on the test clock TestClockID, or on the wall clock.
type CollectInvoicesInput struct {
	TenantID    string
	TestClockID string `json:",omitempty"`
	Attempt     int
	Invoices    InvoiceRefs
}

// CollectedInvoices says how each attempt of a CollectInvoicesInput ended,
// in the order of its invoices.
type CollectedInvoices struct {
	Outcomes []domain.CollectionOutcome
	// Repeated marks the attempts another run had recorded already (see
	// Counted); empty when none was.
	Repeated []bool `json:",omitempty"`
	// At is when the batch's attempts were made, on the invoices' clock:
	// for a run's first attempts, when the dunning of those that failed
	// began (DunningOf). Zero from a worker of a release before it.
	At time.Time `json:",omitzero"`
}

// Counted are the outcomes a run counts in its totals: an attempt another
// run recorded first (two runs as of different days reaching one invoice,
// the provider answering both with its one charge) is that run's, and
// skipped here. Dunning goes by Outcomes: starting it twice starts it once.
func (c CollectedInvoices) Counted() []domain.CollectionOutcome {
	if len(c.Repeated) == 0 {
		return c.Outcomes
	}
	out := slices.Clone(c.Outcomes)
	for i, repeated := range c.Repeated {
		if repeated {
			out[i] = domain.CollectionSkipped
		}
	}
	return out
}

// CollectionPlan is what a collection attempt takes; Collect is false when
// there is nothing to collect.
type CollectionPlan struct {
	Collect       bool
	PaymentMethod string
	Amount        int64
	Currency      string
}

// CollectionResult is how one collection attempt on an invoice ended, and
// for a successful one, the amount it took.
type CollectionResult struct {
	Invoice   InvoiceRef
	Attempt   int
	Outcome   domain.CollectionOutcome
	Reason    string
	PaymentID string
	Amount    int64
}

// AuthoriseInput is one authorisation call.
type AuthoriseInput struct {
	IdempotencyKey string
	Request        payments.AuthoriseRequest
}

// CaptureInput is one capture call.
type CaptureInput struct {
	IdempotencyKey  string
	AuthorisationID string
	Amount          int64
}

// VoidInput is one void call.
type VoidInput struct {
	IdempotencyKey  string
	AuthorisationID string
}
