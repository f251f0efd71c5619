package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// clockSettleTimeout bounds one attempt at waiting for a test clock's
// workflows to settle; it heartbeats while it waits.
const clockSettleTimeout = 10 * time.Minute

// withClockStep runs a step of an advance that talks to Temporal: waking a
// clock's workflows, waiting for them, stopping them.
func withClockStep(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: clockSettleTimeout,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
}

// TestClockAdvanceWorkflow moves a test clock to the target its advance
// recorded, in steps: each step moves the clock to the earliest moment at
// which something of its contracts is due (a workflow's wait, the day's
// terms sweep or billing run), carries that out as the wall clock would
// (workflows woken, term workflows started, periods billed) and waits
// until every workflow of the clock waits again or has closed, so that
// what a step caused (a dunning retry after a declined collection, a
// renewal's date) is due in a later step, in order. The clock is ready
// once nothing more is due by the target, and stands there. A worker
// killed mid-step finds the step again: what was due is due until done.
func TestClockAdvanceWorkflow(ctx workflow.Context, in flow.TestClockInput) (flow.ClockStep, error) {
	var c *activities.Clocks
	for steps := 0; ; steps++ {
		var step flow.ClockStep
		if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), c.NextClockStep, in).Get(ctx, &step); err != nil {
			return step, err
		}
		in.Finished = &step // once carried out below
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Test clock: %s\nAt: %s\nSteps: %d\nDone: %t",
			in.ClockID, step.At.Format(time.RFC3339), steps, step.Done))
		if step.Done {
			return step, nil
		}
		if step.Wake {
			if err := workflow.ExecuteActivity(withClockStep(ctx), c.WakeClock, in, step.At).Get(ctx, nil); err != nil {
				return step, err
			}
		}
		if step.Sweep {
			if err := sweepClockTerms(ctx, in); err != nil {
				return step, err
			}
		}
		if step.Bill {
			if err := billClock(ctx, in, step.At); err != nil {
				return step, err
			}
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return step, workflow.NewContinueAsNewError(ctx, TestClockAdvanceWorkflow, in)
		}
	}
}

// settleClock waits until no workflow of the clock is busy.
func settleClock(ctx workflow.Context, in flow.TestClockInput) error {
	var c *activities.Clocks
	return workflow.ExecuteActivity(withClockStep(ctx), c.SettleClock, in).Get(ctx, nil)
}

// sweepClockTerms runs the terms sweep of the clock's day: the term
// workflows of its contracts whose notice date has come start, at the
// clock's time.
func sweepClockTerms(ctx workflow.Context, in flow.TestClockInput) error {
	var t *activities.Terms
	sweep := flow.TermsSweepInput{TenantID: in.TenantID, TestClockID: in.ClockID}
	for {
		var page flow.TermsPage
		if err := workflow.ExecuteActivity(withTermStep(ctx), t.WatchTerms, sweep).Get(ctx, &page); err != nil {
			return err
		}
		if !page.More {
			return settleClock(ctx, in)
		}
		sweep.AfterRef = page.LastRef
	}
}

// billClock runs the billing run of the clock's day for its contracts, as
// the daily Schedule runs one for the contracts on the wall clock.
func billClock(ctx workflow.Context, in flow.TestClockInput, at time.Time) error {
	asOf := domain.DateOf(at)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            flow.ClockBillingRunWorkflowID(in.TenantID, in.ClockID, at),
		TypedSearchAttributes: temporal.NewSearchAttributes(flow.TenantIDKey.ValueSet(in.TenantID)),
	})
	err := workflow.ExecuteChildWorkflow(cctx, flow.BillingRunWorkflow, flow.BillingRunInput{TenantID: in.TenantID, AsOf: asOf, TestClockID: in.ClockID}).Get(ctx, nil)
	if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return fmt.Errorf("bill test clock %s as of %s: %w", in.ClockID, asOf, err)
	}
	return settleClock(ctx, in)
}

// TestClockDeleteWorkflow deletes a test clock: in one transaction its
// contracts' open amendments fail and its active contracts are cancelled,
// then every workflow of the clock is stopped. Both steps are idempotent,
// so a repeated deletion changes nothing.
func TestClockDeleteWorkflow(ctx workflow.Context, in flow.ClockDeletion) error {
	var c *activities.Clocks
	if err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), c.DeleteClock, in).Get(ctx, nil); err != nil {
		return err
	}
	clock := flow.TestClockInput{TenantID: in.TenantID, ClockID: in.ClockID}
	return workflow.ExecuteActivity(withClockStep(ctx), c.StopClockWorkflows, clock).Get(ctx, nil)
}
