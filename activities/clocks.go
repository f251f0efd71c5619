package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Clocks move test clocks: they step an advancing clock, wake the
// workflows that wait on it and wait for them to settle, and stop the
// workflows of a deleted one.
type Clocks struct {
	database
	temporal *flow.Client
}

// NewClocks builds the test clock activities on s with the business clock
// now; t tells workflows the clock's time and stops them.
func NewClocks(s *store.Store, now func() time.Time, t *flow.Client) *Clocks {
	return &Clocks{database: database{store: s, clock: now}, temporal: t}
}

// DeleteClock deletes the clock, cancelling its contracts (see
// store.DeleteTestClock). An unknown clock is a refusal, not a step to retry.
func (c *Clocks) DeleteClock(ctx context.Context, in flow.ClockDeletion) error {
	_, err := c.store.DeleteTestClock(ctx, in.TenantID, in.ClockID, in.ActorID, c.clock.now())
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("test clock "+in.ClockID+" does not exist", string(domain.KindNotFound), err)
	}
	return err
}

// settlePoll is how often SettleClock looks at the clock's busy workflows
// at first; it looks less often the longer they take, up to
// maxSettlePoll. Most woken workflows wait again within milliseconds.
const (
	settlePoll    = 5 * time.Millisecond
	maxSettlePoll = 200 * time.Millisecond
)

// NextClockStep records the advance's step in.Finished done and moves the
// advancing clock to its next due moment (see store.NextClockStep).
func (c *Clocks) NextClockStep(ctx context.Context, in flow.TestClockInput) (flow.ClockStep, error) {
	var finished store.ClockStep
	if in.Finished != nil {
		finished = store.ClockStep(*in.Finished)
	}
	step, err := c.store.NextClockStep(ctx, in.TenantID, in.ClockID, in.Advance, finished)
	return flow.ClockStep(step), err
}

// RegisterClockWait records what a workflow waits for on its clock and
// returns the clock's time (see store.RegisterClockWait). A deleted clock's
// refusal is not retried: the clock never moves again, and the workflow
// ends with the refusal rather than retry it for good.
func (c *Clocks) RegisterClockWait(ctx context.Context, in flow.ClockWaitInput) (time.Time, error) {
	now, err := c.store.RegisterClockWait(ctx, in.ClockID, in.WorkflowID, in.Due)
	return now, businessError(err)
}

// WakeClock tells every workflow due by at on the clock the clock's time,
// then marks it busy unless it has moved on to another wait already, and
// returns once they have settled (see SettleClock). The order makes a
// retry safe: a workflow told but not marked is still due, and is told
// again, which changes nothing.
func (c *Clocks) WakeClock(ctx context.Context, in flow.TestClockInput, at time.Time) error {
	due, err := c.store.DueClockWaits(ctx, in.ClockID, at)
	if err != nil {
		return err
	}
	for _, w := range due {
		running, err := c.temporal.TellClockAdvanced(ctx, w.WorkflowID, at)
		if err != nil {
			return err
		}
		if !running {
			if err := c.store.ReleaseClock(ctx, w.WorkflowID); err != nil {
				return err
			}
			continue
		}
		if _, err := c.store.WakeClockWait(ctx, w); err != nil {
			return err
		}
		activity.RecordHeartbeat(ctx, w.WorkflowID)
	}
	return c.SettleClock(ctx, in)
}

// SettleClock returns once no workflow of the clock is busy: each waits on
// the clock again or has closed (and is forgotten).
func (c *Clocks) SettleClock(ctx context.Context, in flow.TestClockInput) error {
	for poll := settlePoll; ; poll = min(2*poll, maxSettlePoll) {
		busy, err := c.store.BusyClockWorkflows(ctx, in.ClockID)
		if err != nil {
			return err
		}
		running := 0
		for _, id := range busy {
			closed, err := c.temporal.Closed(ctx, id)
			if err != nil {
				return err
			}
			if !closed {
				running++
				continue
			}
			if err := c.store.ReleaseClock(ctx, id); err != nil {
				return err
			}
		}
		if running == 0 {
			return nil
		}
		activity.RecordHeartbeat(ctx, running)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// StopClockWorkflows terminates every workflow of a deleted clock: its
// running advance, and whatever waits on it. Their amendments ended FAILED
// and their contracts were cancelled when the clock was deleted. Only the
// API deletes a clock: started for one that is not deleted (from an
// operator surface), it stops nothing.
func (c *Clocks) StopClockWorkflows(ctx context.Context, in flow.TestClockInput) error {
	clock, err := c.store.TestClock(ctx, in.TenantID, in.ClockID)
	if err != nil {
		return err
	}
	if clock.Status != store.ClockDeleted {
		return temporal.NewNonRetryableApplicationError("test clock "+in.ClockID+" is not deleted", string(domain.KindConflict), nil)
	}
	const reason = "its test clock was deleted"
	if clock.Advances > 0 {
		if err := c.temporal.Terminate(ctx, flow.TestClockAdvanceWorkflowID(in.TenantID, in.ClockID, clock.Advances), reason); err != nil {
			return err
		}
	}
	ids, err := c.store.ClockWorkflows(ctx, in.ClockID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := c.temporal.Terminate(ctx, id, reason); err != nil {
			return fmt.Errorf("stop the workflows of test clock %s: %w", in.ClockID, err)
		}
		if err := c.store.ReleaseClock(ctx, id); err != nil {
			return err
		}
		activity.RecordHeartbeat(ctx, id)
	}
	return nil
}
