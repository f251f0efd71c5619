package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
)

// Webhooks are delivered in two stages. A dispatcher per tenant follows the
// outbox and turns each event into one delivery per matching subscription
// (rows in Postgres, so fan-out is exactly once), each in its contract's
// lane (flow.WebhookLaneOf). A subscription has flow.WebhookLanes lanes, each
// worked by one lane workflow (webhook_lanes.go) that delivers its due
// deliveries in batches: in order per contract, at least once.

// wakeBatch bounds the workflows one wake-up activity wakes.
const wakeBatch = 100

// webhookLanesChange marks dispatchers that wake lanes; those that started
// before it wake one delivery workflow per queue (webhooks_legacy.go).
const webhookLanesChange = "webhook-lanes"

// WebhookDispatchWorkflow fans the tenant's events out to deliveries as they
// commit and wakes the lane of every delivery it made. It runs for good,
// continuing as new; each run resumes after the last event fanned out and
// first wakes every lane with deliveries pending, which covers wake-ups a
// previous run may not have finished.
func WebhookDispatchWorkflow(ctx workflow.Context, in flow.WebhookDispatchInput) error {
	lanes := workflow.GetVersion(ctx, webhookLanesChange, workflow.DefaultVersion, 1) == 1
	var a *activities.Webhooks
	resume := a.ResumeWebhookDispatch
	if lanes {
		resume = a.ResumeWebhookLanes
	}
	var batch flow.WebhookFanOut
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), resume, in.TenantID).Get(ctx, &batch); err != nil {
		return err
	}
	pollCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: activities.WebhookPollWait + time.Minute,
		HeartbeatTimeout:    15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	wakeCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	for {
		// In slices, so a retried wake-up repeats little and fits its timeout.
		for queues := range slices.Chunk(batch.Queues, wakeBatch) {
			err := workflow.ExecuteActivity(wakeCtx, a.WakeWebhookQueues, flow.WakeWebhookQueuesInput{Queues: queues, Retry: in.Retry}).Get(ctx, nil)
			if err != nil {
				return err
			}
		}
		for chunk := range slices.Chunk(batch.Lanes, wakeBatch) {
			err := workflow.ExecuteActivity(wakeCtx, a.WakeWebhookLanes, flow.WakeWebhookLanesInput{Lanes: chunk, Retry: in.Retry}).Get(ctx, nil)
			if err != nil {
				return err
			}
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookDispatchWorkflow, in)
		}
		var next flow.WebhookFanOut
		if err := workflow.ExecuteActivity(pollCtx, a.PollWebhookEvents, flow.PollWebhookEventsInput{
			TenantID: in.TenantID, After: batch.Upto, Lanes: lanes,
		}).Get(ctx, &next); err != nil {
			return err
		}
		batch = next
	}
}
