package activities

import (
	"context"
	"encoding/json"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// OpenAmendmentInput is a self-service request the API validated.
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
}

// OpenAmendmentResult is the recorded amendment, the contract it holds, and
// how long until its effective date starts (0 for an immediate change).
type OpenAmendmentResult struct {
	Amendment domain.Amendment
	Contract  domain.Contract
	WaitFor   time.Duration
}

// OpenAmendment prices the change against the locked contract and records
// the amendment: PENDING when it applies today, SCHEDULED for a future date.
func (a *Activities) OpenAmendment(ctx context.Context, in OpenAmendmentInput) (OpenAmendmentResult, error) {
	now := a.now()
	today := domain.DateOf(now)
	am, ct, err := a.Store.OpenAmendment(ctx, store.NewAmendment{
		ID: in.AmendmentID, TenantID: in.TenantID, ContractID: in.ContractID, Action: in.Change.Action,
		Request: in.Request, RequestHash: in.RequestHash, IdempotencyKey: in.IdempotencyKey, WorkflowID: in.WorkflowID,
		ActorID: in.ActorID, Source: in.Source,
	}, now, func(ct domain.Contract, cat domain.Catalog) (domain.Quote, string, error) {
		q, err := domain.PlanAmendment(&cat, ct, in.Change, today)
		if err != nil {
			return q, "", err
		}
		if q.Immediate(today) {
			return q, domain.StatusPending, nil
		}
		return q, domain.StatusScheduled, nil
	})
	if err != nil {
		return OpenAmendmentResult{}, businessError(err)
	}
	res := OpenAmendmentResult{Amendment: am, Contract: ct}
	if wait := am.EffectiveDate.Time().Sub(now); wait > 0 {
		res.WaitFor = wait
	}
	return res, nil
}

// ApplyAmendmentInput names the amendment to apply and who triggered it.
type ApplyAmendmentInput struct {
	TenantID    string
	AmendmentID string
	ActorID     string
	Source      string
}

// ApplyAmendment writes the change; applying twice changes nothing the second time.
func (a *Activities) ApplyAmendment(ctx context.Context, in ApplyAmendmentInput) (store.Applied, error) {
	out, err := a.Store.ApplyAmendment(ctx, in.TenantID, in.AmendmentID, in.ActorID, in.Source, a.now())
	return out, businessError(err)
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

// TransitionAmendment records a status change such as WITHDRAWN or FAILED.
func (a *Activities) TransitionAmendment(ctx context.Context, in TransitionInput) (domain.Amendment, error) {
	am, err := a.Store.Transition(ctx, in.TenantID, in.AmendmentID, in.From, in.To, in.ActorID, in.Source, in.Note, a.now())
	return am, businessError(err)
}

// now is the business clock at database precision, so what is stored and
// what is returned agree.
func (a *Activities) now() time.Time {
	return a.Now().UTC().Truncate(time.Microsecond)
}
