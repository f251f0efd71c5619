package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
)

// ScheduleChangeWorkflowID is unique per request: concurrent cancels of one
// contract are separate changes, serialised by the contract row's lock, not
// one execution that would answer both alike.
func ScheduleChangeWorkflowID(tenantID, changeID string) string {
	return "schedule-change/" + tenantID + "/" + changeID
}

// ScheduleChangeWorkflow cancels or restarts a contract's payment schedule
// (DDCMS) and returns the event it recorded.
func ScheduleChangeWorkflow(ctx workflow.Context, in activities.ScheduleChangeInput) (domain.ScheduleEvent, error) {
	var a *activities.Activities
	var ev domain.ScheduleEvent
	err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.ChangeSchedule, in).Get(ctx, &ev)
	return ev, err
}
