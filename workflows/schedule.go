package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// ScheduleChangeWorkflow cancels or restarts a contract's payment schedule
// (DDCMS) and returns the event it recorded. The change decides what
// billing will invoice, and so what the contract's open amendments prorate:
// when it re-priced any, their workflows are told, as after any change to
// the timeline. A history recorded before the change reported that reads
// Rebased false, as it then did nothing more, and so replays as it ran.
func ScheduleChangeWorkflow(ctx workflow.Context, in flow.ScheduleChangeInput) (domain.ScheduleEvent, error) {
	var a *activities.Schedules
	var changed flow.ScheduleChanged
	if err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), a.ChangeSchedule, in).Get(ctx, &changed); err != nil || !changed.Rebased {
		return changed.ScheduleEvent, err
	}
	return changed.ScheduleEvent, tellTimeline(ctx, in.TenantID, in.ContractID)
}
