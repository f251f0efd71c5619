package activities

import (
	"context"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
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
}

// CreateContracts prices the requested contracts against the tenant's current
// catalog and stores them with their account and action record.
func (a *Activities) CreateContracts(ctx context.Context, in CreateContractsInput) (store.ContractAction, error) {
	cat, err := a.Store.Catalog(ctx, in.TenantID)
	if err != nil {
		return store.ContractAction{}, err
	}
	plans, err := domain.PlanContracts(&cat, in.Contracts)
	if err != nil {
		return store.ContractAction{}, businessError(err)
	}
	action, err := a.Store.CreateContracts(ctx, store.NewContractAction{
		ID: in.ActionID, TenantID: in.TenantID, ActorID: in.ActorID, Source: in.Source, TraceID: in.TraceID,
		IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash, AccountNumber: in.AccountNumber,
		ActionType: in.ActionType, Plans: plans,
	}, a.now())
	if err != nil {
		return action, fmt.Errorf("create contracts: %w", err)
	}
	return action, nil
}
