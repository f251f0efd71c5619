package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Contracts creates contracts.
type Contracts struct{ database }

// NewContracts builds the contract activities on s with the business clock now.
func NewContracts(s *store.Store, now func() time.Time) *Contracts {
	return &Contracts{database{store: s, clock: now}}
}

// CreateContracts prices the requested contracts against the tenant's current
// catalog and stores them with their account and action record.
func (a *Contracts) CreateContracts(ctx context.Context, in flow.CreateContractsInput) (flow.ContractAction, error) {
	cat, err := a.store.Catalog(ctx, in.TenantID)
	if err != nil {
		return flow.ContractAction{}, err
	}
	plans, err := domain.PlanContracts(&cat, in.Contracts)
	if err != nil {
		return flow.ContractAction{}, businessError(err)
	}
	action, err := a.store.CreateContracts(ctx, store.NewContractAction{
		ID: in.ActionID, TenantID: in.TenantID, ActorID: in.ActorID, Source: in.Source, TraceID: in.TraceID,
		IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash, AccountNumber: in.AccountNumber,
		ActionType: in.ActionType, Plans: plans, TestClockID: optional(in.TestClockID),
	}, a.clock.now())
	out := flow.ContractAction(action)
	if err != nil {
		// A refusal the database makes under the lock (a viewing card taken
		// or a termination deleted since the API checked) is the caller's to
		// see, not a step to retry.
		return out, businessError(fmt.Errorf("create contracts: %w", err))
	}
	return out, nil
}
