package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// A schedule change that re-priced the contract's open amendments (what
// billing will invoice, and so prorate, changed) tells their workflows; one
// that re-priced none tells nobody. Either returns the event it recorded.
func TestScheduleChangeTellsTheTimelineItRepriced(t *testing.T) {
	for _, rebased := range []bool{false, true} {
		env := workflows.NewTestEnv(t)
		var schedules *activities.Schedules
		in := flow.ScheduleChangeInput{ChangeID: "change-1", TenantID: "tenant-1", ContractID: "contract-1", Action: domain.CancelSchedule}
		ev := domain.ScheduleEvent{Status: domain.ScheduleTerminated, ActorID: "actor-1", Source: "USER"}
		env.OnActivity(schedules.ChangeSchedule, mock.Anything, in).Return(flow.ScheduleChanged{ScheduleEvent: ev, Rebased: rebased}, nil).Once()
		if rebased {
			env.OnActivity(timeline.NotifyTimeline, mock.Anything, flow.TimelineInput{TenantID: "tenant-1", ContractID: "contract-1"}).Return(nil).Once()
		}

		env.ExecuteWorkflow(workflows.ScheduleChangeWorkflow, in)
		require.NoError(t, env.GetWorkflowError())
		var got domain.ScheduleEvent
		require.NoError(t, env.GetWorkflowResult(&got))
		assert.Equal(t, ev, got)
		if !rebased {
			env.AssertActivityNumberOfCalls(t, "NotifyTimeline", 0)
		}
	}
}

// A restart resumes the dunning of the unpaid invoices its change listed,
// in one activity.
func TestAScheduleRestartResumesTheDunningItListed(t *testing.T) {
	env := workflows.NewTestEnv(t)
	var schedules *activities.Schedules
	in := flow.ScheduleChangeInput{ChangeID: "change-1", TenantID: "tenant-1", ContractID: "contract-1", Action: domain.RestartSchedule}
	ev := domain.ScheduleEvent{Status: domain.ScheduleActive, ActorID: "actor-1", Source: "USER"}
	unpaid := []flow.DunningInput{{
		InvoiceRef: flow.InvoiceRef{TenantID: "tenant-1", ContractID: "contract-1", InvoiceID: "invoice-1", DueDate: dueDate},
		Resume:     &flow.DunningResume{Attempt: 2, On: dueDate.AddDays(9)},
	}}
	env.OnActivity(schedules.ChangeSchedule, mock.Anything, in).Return(flow.ScheduleChanged{ScheduleEvent: ev, Dunning: unpaid}, nil).Once()
	env.OnActivity(dunning.ResumeDunning, mock.Anything, unpaid).Return(nil).Once()

	env.ExecuteWorkflow(workflows.ScheduleChangeWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	var got domain.ScheduleEvent
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, ev, got)
}
