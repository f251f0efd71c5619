package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
)

// changeTestClock marks the change that lets a workflow wait on its
// contract's test clock instead of a timer. Only a contract on a test clock
// takes it, and none existed before it, so no recorded history takes the
// new path; the version keeps the rule that every command change is gated.
const changeTestClock = "test-clock"

// businessClock is the time a workflow's contract lives on: Temporal's own
// (timers) for a contract on the wall clock, or the contract's test clock,
// which moves only when an advance tells the workflow its time. Waiting is
// written once, here: a workflow on a test clock waits only for its clock,
// any other only for its timer.
type businessClock struct {
	id  string    // the test clock's id; empty on the wall clock
	now time.Time // the test clock's time, as last read or told
}

// onTestClock is the clock of a contract on test clock id at time now, or
// the wall clock when id is empty.
func onTestClock(id string, now time.Time) *businessClock {
	return &businessClock{id: id, now: now}
}

// Now is the business time.
func (c *businessClock) Now(ctx workflow.Context) time.Time {
	if c.id == "" {
		return workflow.Now(ctx)
	}
	return c.now
}

// listen lets the service tell the workflow its test clock's time: the
// Update flow.UpdateClockAdvanced, signed by the service (as every Update
// is, see refuseUnsigned), never moving the clock back. A workflow on the
// wall clock refuses it. Registering a handler records nothing in history.
func (c *businessClock) listen(ctx workflow.Context) error {
	check := senderCheck(ctx)
	return workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateClockAdvanced,
		func(_ workflow.Context, a flow.ClockAdvanced) error {
			if a.Time.After(c.now) {
				c.now = a.Time
			}
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, a flow.ClockAdvanced) error {
			if c.id == "" {
				return errors.New("this workflow's contract is not on a test clock")
			}
			return refuseUnsigned(ctx, check, flow.UpdateClockAdvanced, "", a)
		}})
}

// await waits until cond holds or the clock reaches deadline, and reports
// whether cond held. On a test clock it records the wait (the clock's
// advance wakes it when the clock gets there) and learns the clock's time.
func (c *businessClock) await(ctx workflow.Context, deadline time.Time, cond func() bool) (bool, error) {
	if c.id == "" {
		left := deadline.Sub(workflow.Now(ctx))
		if left <= 0 {
			return cond(), nil
		}
		return workflow.AwaitWithTimeout(ctx, left, cond)
	}
	due := func() bool { return !c.now.Before(deadline) }
	if !due() {
		workflow.GetVersion(ctx, changeTestClock, workflow.DefaultVersion, 1)
		var a *activities.Clocks
		var now time.Time
		err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.RegisterClockWait, flow.ClockWaitInput{
			ClockID: c.id, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Due: deadline,
		}).Get(ctx, &now)
		if err != nil {
			return false, err
		}
		if now.After(c.now) {
			c.now = now
		}
	}
	if due() {
		return cond(), nil
	}
	err := workflow.Await(ctx, func() bool { return cond() || due() })
	return cond(), err
}

// sleepUntil waits until t on the clock; a time passed does not wait.
func (c *businessClock) sleepUntil(ctx workflow.Context, t time.Time) error {
	if c.id == "" {
		return sleepTill(ctx, t)
	}
	_, err := c.await(ctx, t, func() bool { return false })
	return err
}

// sleepTill waits on a durable timer until t; a time passed does not wait.
func sleepTill(ctx workflow.Context, t time.Time) error {
	if wait := t.Sub(workflow.Now(ctx)); wait > 0 {
		return workflow.Sleep(ctx, wait)
	}
	return nil
}
