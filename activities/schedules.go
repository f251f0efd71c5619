package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Schedules changes contracts' payment schedules.
type Schedules struct{ database }

// NewSchedules builds the schedule activities on s with the business clock now.
func NewSchedules(s *store.Store, now func() time.Time) *Schedules {
	return &Schedules{database{store: s, clock: now}}
}

// ChangeSchedule cancels or restarts a contract's payment schedule and
// records who did it, when, from where and why, whether the contract's
// open amendments it re-priced are to be told, and which dunnings a restart
// resumes: each unpaid invoice's, from its next attempt, on the restart's
// day, its plan counted from the day its dunning began if it was billed
// late.
func (a *Schedules) ChangeSchedule(ctx context.Context, in flow.ScheduleChangeInput) (flow.ScheduleChanged, error) {
	changed, err := a.store.ChangeSchedule(ctx, store.ScheduleChange{
		ID: in.ChangeID, TenantID: in.TenantID, ContractID: in.ContractID, Action: in.Action, Comment: in.Comment,
		ActorID: in.ActorID, Source: in.Source, At: a.clock.now(), Workflow: activity.GetInfo(ctx).WorkflowExecution.ID,
	})
	out := flow.ScheduleChanged{ScheduleEvent: changed.Event, Rebased: changed.Rebased}
	for _, inv := range changed.Unpaid {
		dunning := flow.DunningOf(flow.InvoiceRef{
			TenantID: in.TenantID, ContractID: in.ContractID, InvoiceID: inv.ID, DueDate: inv.PeriodStart, TestClockID: changed.TestClockID,
		}, inv.FirstTried)
		dunning.Resume = &flow.DunningResume{Attempt: inv.NextAttempt, On: domain.DateOf(changed.Event.At)}
		out.Dunning = append(out.Dunning, dunning)
	}
	if errors.Is(err, store.ErrNotFound) {
		return out, businessError(domain.Errorf(domain.KindNotFound, "contractId", "contract %s does not exist", in.ContractID))
	}
	if err != nil {
		return out, businessError(fmt.Errorf("%s schedule of contract %s: %w", in.Action, in.ContractID, err))
	}
	return out, nil
}
