package flow

import (
	"encoding/json"
	"time"

	"github.com/contractd/contractd/internal/domain"
)

// OpenAmendmentInput is a self-service request the API validated: the
// amendment workflow's input and its first activity's.
type OpenAmendmentInput struct {
	AmendmentID    string
	WorkflowID     string
	TenantID       string
	ContractID     string // uuid
	ActorID        string
	Source         string
	TraceID        string
	IdempotencyKey string
	RequestHash    string
	Change         domain.Change
	Request        json.RawMessage
	// ApplyImmediately lets an immediate change that is neither held for
	// review nor paid up front be applied as it is recorded. Workflows
	// started before this existed apply in a step of their own. StartAmendment
	// sets it; a workflow started without it asks its version instead.
	ApplyImmediately bool
}

// OpenAmendmentResult is the recorded amendment, what its workflow keeps of
// the contract it holds, how long until its effective date starts (0 for an
// immediate change), and for a held amendment, how long a decision may take.
type OpenAmendmentResult struct {
	Amendment    domain.Amendment
	Contract     ContractSummary
	WaitFor      time.Duration
	ReviewExpiry time.Duration
	// Rebased reports that opening it re-priced or failed other amendments
	// of the contract, whose workflows are to be told (NotifyTimeline).
	Rebased bool `json:",omitempty"`
	// TestClock is the contract's test clock, read as the amendment was
	// opened, when it lives on one: its waits are on that clock.
	TestClock *ClockReading `json:",omitempty"`
}

// ContractSummary is what an amendment's workflow keeps of its contract:
// what a payment for the change needs, and the contract's version. Whole
// contracts would be stored in every history, and read once more to be
// stored; histories recorded before this hold the contract's terms under the
// same key, which decode to this.
type ContractSummary struct {
	ID            string `json:"id"`
	Version       int64  `json:"version"`
	Currency      string `json:"currency"`
	PaymentMethod string `json:"paymentMethod"`
}

// SummaryOf is what an amendment's workflow keeps of ct, at version.
func SummaryOf(ct domain.Contract, version int64) ContractSummary {
	return ContractSummary{ID: ct.ID, Version: version, Currency: ct.Currency, PaymentMethod: ct.PaymentMethod}
}

// ApplyAmendmentInput names the amendment to apply and who triggered it,
// and the up-front payment its workflow authorised for it (0 for none).
type ApplyAmendmentInput struct {
	TenantID    string
	AmendmentID string
	ActorID     string
	Source      string
	Authorised  int64
}

// Applied is an applied amendment and the contract it changed.
type Applied struct {
	Amendment domain.Amendment
	Contract  ContractSummary
	// Rebased: see OpenAmendmentResult.Rebased.
	Rebased bool `json:",omitempty"`
}

// Transitioned is an amendment after a change of status, encoded as
// domain.Amendment is (histories recorded before Rebased hold just that).
type Transitioned struct {
	domain.Amendment
	// Rebased: see OpenAmendmentResult.Rebased.
	Rebased bool `json:"rebased,omitempty"`
}

// ApproveInput accepts an amendment held for review: who approved it, their
// comment, and the quote version they saw, if they named it.
type ApproveInput struct {
	TenantID     string
	AmendmentID  string
	ActorID      string
	Source       string
	Comment      *string
	QuoteVersion *int64
}

// AmendmentRef names an amendment of a tenant.
type AmendmentRef struct {
	TenantID    string
	AmendmentID string
}

// TimelineInput names a contract whose re-priced amendments' workflows are
// to be told.
type TimelineInput struct {
	TenantID   string
	ContractID string
}

// EventInput adds an event such as APPROVED or ESCALATED to an amendment's
// history. Capture is set on the event of an up-front payment's capture.
type EventInput struct {
	TenantID    string
	AmendmentID string
	Event       string
	ActorID     string
	Source      string
	Note        *string
	Capture     *CaptureRef
}

// CaptureRef is a captured up-front payment.
type CaptureRef struct {
	PaymentID string
	Amount    int64
}

// TransitionInput moves an amendment between statuses.
type TransitionInput struct {
	TenantID    string
	AmendmentID string
	From        []string
	To          string
	ActorID     string
	Source      string
	Note        *string
}

// Outcome is an amendment's state as the API reports it. A refusal carries
// the domain kind and message instead of an amendment. It leaves out the
// contract, which the API reads from Postgres: a contract's segments grow
// with every change, and the outcome is stored in the workflow's history.
type Outcome struct {
	Amendment    *domain.Amendment
	ErrorKind    domain.Kind
	ErrorFault   domain.Fault
	ErrorMessage string
}

// Actor is who asks for a decision on an amendment (the withdraw Update's
// argument).
type Actor struct {
	ID     string
	Source string
}

// Decision is an approver's answer to an amendment in REVIEW (the approve
// and reject Updates' argument).
type Decision struct {
	Actor   Actor
	Comment string
	// QuoteVersion is the quote version the approver saw, when they named it.
	QuoteVersion *int64 `json:",omitempty"`
}

// Events an amendment workflow records in the amendment's history besides
// its statuses.
const (
	EventApproved          = "APPROVED"
	EventEscalated         = "ESCALATED"
	EventPaymentAuthorised = "PAYMENT_AUTHORISED"
	EventPaymentCaptured   = "PAYMENT_CAPTURED"
	EventPaymentVoided     = "PAYMENT_VOIDED"
)
