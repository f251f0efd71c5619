package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/contractd/contractd/internal/auth"
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

// CreateContracts prices the requested contracts against the tenant's
// catalog, as the transaction that stores them (with their account and
// action record) reads it: a catalog replacement cannot drop what they use
// in between (see store.PutCatalog).
func (a *Contracts) CreateContracts(ctx context.Context, in flow.CreateContractsInput) (flow.ContractAction, error) {
	action, err := a.store.CreateContracts(ctx, store.NewContractAction{
		ID: in.ActionID, TenantID: in.TenantID, ActorID: in.ActorID, Source: in.Source, TraceID: in.TraceID,
		IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash, AccountNumber: in.AccountNumber,
		ActionType: in.ActionType, TestClockID: optional(in.TestClockID),
		Plan: func(cat *domain.Catalog) ([]domain.ContractPlan, error) {
			plans, err := domain.PlanContracts(cat, in.Contracts)
			if err == nil && in.Source == string(auth.SourceCustomer) {
				// A customer's contracts are held to the business's terms
				// here too, on the catalog stored with them: the tenant's
				// default renewal may have changed since the API checked.
				// PlanContracts gave a mode-only renewal that catalog's
				// numbers (the ones the request gave travel with it:
				// RequestedContract.RenewalAsked).
				err = domain.CustomerContracts(cat, in.Contracts)
			}
			return plans, err
		},
	}, a.clock.now())
	out := flow.ContractAction(action)
	if err != nil {
		// A refusal made under the locks (a contract the catalog no longer
		// allows, a viewing card taken or a termination deleted since the
		// API checked) is the caller's to see, not a step to retry.
		return out, businessError(fmt.Errorf("create contracts: %w", err))
	}
	return out, nil
}
