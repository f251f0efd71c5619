package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// An advance carries out each step the clock stands at as the wall clock
// would, and waits for the clock's workflows to settle after each part of
// it before the next step is read: waking the waits due (WakeClock
// settles them itself), the day's terms sweep (every page), the day's
// billing run for the clock's contracts. Each read of the next step names
// the step carried out before it, so that its sweeps are recorded done.
func TestClockAdvanceStepsWakeSweepAndBillInOrder(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.TestClockAdvanceWorkflow)
	env.RegisterWorkflow(workflows.BillingRunWorkflow)
	in := flow.TestClockInput{TenantID: "tenant-1", ClockID: clockID}
	wake := time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC)
	sweep := time.Date(2031, 3, 3, 0, 5, 0, 0, time.UTC)
	bill := time.Date(2031, 3, 3, 0, 30, 0, 0, time.UTC)
	all := time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	steps := []flow.ClockStep{
		{At: wake, Wake: true},
		{At: sweep, Sweep: true},
		{At: bill, Bill: true},
		{At: all, Wake: true, Sweep: true, Bill: true},
		{At: all, Done: true},
	}
	var calls []string
	read := 0
	theClock := mock.MatchedBy(func(c flow.TestClockInput) bool { return c.TenantID == in.TenantID && c.ClockID == in.ClockID })
	env.OnActivity(clocks.NextClockStep, mock.Anything, theClock).Return(func(_ context.Context, c flow.TestClockInput) (flow.ClockStep, error) {
		switch {
		case read == 0:
			assert.Nil(t, c.Finished, "nothing carried out before the first step")
		default:
			assert.Equal(t, steps[read-1], *c.Finished, "the step before is named done")
		}
		calls = append(calls, "next")
		read++
		return steps[read-1], nil
	})
	env.OnActivity(clocks.WakeClock, mock.Anything, theClock, mock.Anything).Return(func(_ context.Context, _ flow.TestClockInput, at time.Time) error {
		calls = append(calls, "wake "+at.UTC().Format(time.RFC3339))
		return nil
	})
	env.OnActivity(clocks.SettleClock, mock.Anything, theClock).Return(func(context.Context, flow.TestClockInput) error {
		calls = append(calls, "settle")
		return nil
	})
	env.OnActivity(terms.WatchTerms, mock.Anything, mock.MatchedBy(func(s flow.TermsSweepInput) bool {
		return s.TenantID == in.TenantID && s.TestClockID == clockID
	})).Return(func(_ context.Context, s flow.TermsSweepInput) (flow.TermsPage, error) {
		calls = append(calls, fmt.Sprint("sweep after ", s.AfterRef))
		return flow.TermsPage{LastRef: 7, More: s.AfterRef == 0}, nil
	})
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, run flow.BillingRunInput) (flow.BillingRunState, error) {
		calls = append(calls, "bill "+run.AsOf.String()+" on "+run.TestClockID+" as "+workflow.GetInfo(ctx).WorkflowExecution.ID)
		return flow.BillingRunState{}, nil
	})

	env.ExecuteWorkflow(workflows.TestClockAdvanceWorkflow, in)

	requireCompleted(t, env)
	var done flow.ClockStep
	require.NoError(t, env.GetWorkflowResult(&done))
	assert.Equal(t, steps[len(steps)-1], done)
	billed := func(at time.Time) string {
		return "bill " + domain.DateOf(at).String() + " on " + clockID + " as " + flow.ClockBillingRunWorkflowID(in.TenantID, clockID, at)
	}
	assert.Equal(t, []string{
		"next", "wake 2031-03-02T00:00:00Z",
		"next", "sweep after 0", "sweep after 7", "settle",
		"next", billed(bill), "settle",
		"next", "wake 2031-04-01T00:00:00Z", "sweep after 0", "sweep after 7", "settle", billed(all), "settle",
		"next",
	}, calls)
}

// Deleting a clock cancels its contracts first, in one step, then stops
// the clock's workflows.
func TestClockDeletionCancelsThenStops(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.TestClockDeleteWorkflow)
	in := flow.ClockDeletion{TenantID: "tenant-1", ClockID: clockID, ActorID: "operator-1"}
	var calls []string
	env.OnActivity(clocks.DeleteClock, mock.Anything, in).Return(func(context.Context, flow.ClockDeletion) error {
		calls = append(calls, "delete")
		return nil
	})
	env.OnActivity(clocks.StopClockWorkflows, mock.Anything, flow.TestClockInput{TenantID: in.TenantID, ClockID: clockID}).Return(
		func(context.Context, flow.TestClockInput) error {
			calls = append(calls, "stop")
			return nil
		})
	env.ExecuteWorkflow(workflows.TestClockDeleteWorkflow, in)
	requireCompleted(t, env)
	assert.Equal(t, []string{"delete", "stop"}, calls)
}

// An advance that continues as new (its history grown long) continues the
// same advance: the next run carries the advance's number, so that it
// steps the clock's advance of that number and no other, and the step
// carried out, so that its sweeps are recorded done.
func TestAnAdvanceContinuedAsNewKeepsItsNumber(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.TestClockAdvanceWorkflow)
	env.SetContinueAsNewSuggested(true)
	in := flow.TestClockInput{TenantID: "tenant-1", ClockID: clockID, Advance: 3}
	step := flow.ClockStep{At: time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC), Wake: true}
	env.OnActivity(clocks.NextClockStep, mock.Anything, in).Return(step, nil).Once()
	env.OnActivity(clocks.WakeClock, mock.Anything, mock.Anything, step.At).Return(nil).Once()

	env.ExecuteWorkflow(workflows.TestClockAdvanceWorkflow, in)

	require.True(t, env.IsWorkflowCompleted())
	var next *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &next)
	var continued flow.TestClockInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(next.Input, &continued))
	assert.Equal(t, flow.TestClockInput{TenantID: in.TenantID, ClockID: clockID, Advance: 3, Finished: &step}, continued)
}
