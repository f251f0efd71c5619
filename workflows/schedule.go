package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// resumeDunningChange names the change that makes a restart resume the
// dunning of the contract's unpaid invoices. Only a change recorded since
// lists any (flow.ScheduleChanged.Dunning), so no recorded history takes
// the new path; the version keeps the rule that every command change is
// gated.
const resumeDunningChange = "resume-dunning"

// ScheduleChangeWorkflow cancels or restarts a contract's payment schedule
// (DDCMS) and returns the event it recorded. The change decides what
// billing will invoice, and so what the contract's open amendments prorate:
// when it re-priced any, their workflows are told, as after any change to
// the timeline. A history recorded before the change reported that reads
// Rebased false, as it then did nothing more, and so replays as it ran. A
// restart resumes the dunning of the contract's unpaid invoices, which no
// billing run collects: their retries that came while the schedule was
// Terminated were skipped.
func ScheduleChangeWorkflow(ctx workflow.Context, in flow.ScheduleChangeInput) (domain.ScheduleEvent, error) {
	var a *activities.Schedules
	var changed flow.ScheduleChanged
	if err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), a.ChangeSchedule, in).Get(ctx, &changed); err != nil {
		return changed.ScheduleEvent, err
	}
	if len(changed.Dunning) > 0 {
		workflow.GetVersion(ctx, resumeDunningChange, workflow.DefaultVersion, 1)
		var d *activities.Dunning
		if err := workflow.ExecuteActivity(startingDunning(ctx), d.ResumeDunning, changed.Dunning).Get(ctx, nil); err != nil {
			return changed.ScheduleEvent, err
		}
	}
	if !changed.Rebased {
		return changed.ScheduleEvent, nil
	}
	return changed.ScheduleEvent, tellTimeline(ctx, in.TenantID, in.ContractID)
}
