package flow

import (
	"time"

	"github.com/contractd/contractd/internal/domain"
)

// CreateContractsInput is a validated contract-actions request.
type CreateContractsInput struct {
	ActionID       string
	TenantID       string
	ActorID        string
	Source         string
	TraceID        string
	IdempotencyKey string
	RequestHash    string
	AccountNumber  string
	ActionType     string
	Contracts      []domain.RequestedContract
	// TestClockID puts the contracts on the tenant's test clock.
	TestClockID string `json:",omitempty"`
}

// ContractAction is what a contract action created. Its json tags are those
// of the store row it was before it had a type of its own: histories hold
// it encoded so. It has the row's fields, IdempotencyKey (never encoded)
// included, so that a row converts to it as it is.
type ContractAction struct {
	ID             string            `json:"id"`
	Number         string            `json:"number"`
	ActionType     string            `json:"actionType"`
	AccountID      string            `json:"accountId"`
	AccountNumber  string            `json:"accountNumber"`
	Contracts      []domain.Contract `json:"contracts"`
	TraceID        string            `json:"traceId,omitempty"`
	CreatedOn      time.Time         `json:"createdOn"`
	CreatedBy      string            `json:"createdBy"`
	IdempotencyKey string            `json:"-"`
	RequestHash    string            `json:"requestHash,omitempty"`
}

// ScheduleChangeInput is a DDCMS cancel or restart of a payment schedule.
type ScheduleChangeInput struct {
	// ChangeID names the change: the request's id, or one derived from its
	// Idempotency-Key. It makes a retried change idempotent.
	ChangeID   string
	TenantID   string
	ContractID string
	Action     domain.ScheduleAction
	Comment    *string
	ActorID    string
	Source     string
}

// ScheduleChanged is what a schedule change did: the event it recorded and,
// as in Applied, whether it re-priced open amendments whose workflows are
// then to be told. A result recorded before it reported that decodes as the
// event alone, Rebased false.
type ScheduleChanged struct {
	domain.ScheduleEvent
	Rebased bool `json:",omitempty"`
	// Dunning lists the dunnings a restart resumes: one for each unpaid
	// invoice of the contract.
	Dunning []DunningInput `json:",omitempty"`
}
