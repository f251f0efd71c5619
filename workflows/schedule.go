package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// ScheduleChangeWorkflow cancels or restarts a contract's payment schedule
// (DDCMS) and returns the event it recorded.
func ScheduleChangeWorkflow(ctx workflow.Context, in flow.ScheduleChangeInput) (domain.ScheduleEvent, error) {
	var a *activities.Schedules
	var ev domain.ScheduleEvent
	err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), a.ChangeSchedule, in).Get(ctx, &ev)
	return ev, err
}
