package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// ScheduleChangeInput is a DDCMS cancel or restart of a payment schedule.
type ScheduleChangeInput struct {
	// ChangeID is the request's id; it makes a retried change idempotent.
	ChangeID   string
	TenantID   string
	ContractID string
	Action     domain.ScheduleAction
	Comment    *string
	ActorID    string
	Source     string
}

// ChangeSchedule cancels or restarts a contract's payment schedule and
// records who did it, when, from where and why.
func (a *Activities) ChangeSchedule(ctx context.Context, in ScheduleChangeInput) (domain.ScheduleEvent, error) {
	ev, err := a.Store.ChangeSchedule(ctx, store.ScheduleChange{
		ID: in.ChangeID, TenantID: in.TenantID, ContractID: in.ContractID, Action: in.Action, Comment: in.Comment,
		ActorID: in.ActorID, Source: in.Source, At: a.now(),
	})
	if errors.Is(err, store.ErrNotFound) {
		return ev, businessError(domain.Errorf(domain.KindNotFound, "contractId", "contract %s does not exist", in.ContractID))
	}
	if err != nil {
		return ev, businessError(fmt.Errorf("%s schedule of contract %s: %w", in.Action, in.ContractID, err))
	}
	return ev, nil
}
