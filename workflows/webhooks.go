package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/webhooks"
)

// Webhooks are delivered in two stages. A dispatcher per tenant follows the
// outbox and turns each event into one delivery per matching subscription
// (rows in Postgres, so fan-out is exactly once). The deliveries of one
// subscription about one contract form a queue, which one delivery workflow
// works through in event order, each delivery retried with backoff before
// the next is tried: in order per contract, at least once.

// wakeBatch bounds the delivery workflows one activity wakes.
const wakeBatch = 100

// WebhookDispatchWorkflow fans the tenant's events out to deliveries as they
// commit and wakes the delivery workflow of every queue that got one. It
// runs for good, continuing as new; each run resumes after the last event
// fanned out and first wakes every queue with deliveries pending, which
// covers wake-ups a previous run may not have finished.
func WebhookDispatchWorkflow(ctx workflow.Context, in flow.WebhookDispatchInput) error {
	var a *activities.Webhooks
	var batch flow.WebhookFanOut
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.ResumeWebhookDispatch, in.TenantID).Get(ctx, &batch); err != nil {
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
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookDispatchWorkflow, in)
		}
		var next flow.WebhookFanOut
		if err := workflow.ExecuteActivity(pollCtx, a.PollWebhookEvents, flow.PollWebhookEventsInput{
			TenantID: in.TenantID, After: batch.Upto,
		}).Get(ctx, &next); err != nil {
			return err
		}
		batch = next
	}
}

// WebhookDeliveryWorkflow works through one queue (one subscription's events
// about one contract) in event order, one delivery at a time. A delivery is
// retried with exponential backoff for the retry window, then given up so
// the queue moves on. The workflow ends when the queue is empty; the
// dispatcher signals-with-start it again when the queue grows.
func WebhookDeliveryWorkflow(ctx workflow.Context, in flow.WebhookDeliveryInput) error {
	q := in.Queue
	if err := workflow.UpsertTypedSearchAttributes(ctx, flow.TenantIDKey.ValueSet(q.TenantID), flow.ContractIDKey.ValueSet(q.ContractID)); err != nil {
		return err
	}
	var a *activities.Webhooks
	sendCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// One attempt is one HTTP request plus bookkeeping.
		StartToCloseTimeout:    webhooks.Timeout + 20*time.Second,
		ScheduleToCloseTimeout: in.Retry.Window,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: in.Retry.InitialInterval, BackoffCoefficient: 2, MaximumInterval: in.Retry.MaximumInterval,
		},
	})
	dbCtx := withDatabaseStep(ctx)
	wake := workflow.GetSignalChannel(ctx, flow.WebhookWakeSignal)
	for {
		// A wake-up only says "look again", which the next step does.
		for wake.ReceiveAsync(nil) {
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookDeliveryWorkflow, in)
		}
		var next string
		if err := workflow.ExecuteLocalActivity(dbCtx, a.NextWebhookDelivery, q).Get(ctx, &next); err != nil {
			return err
		}
		if next == "" {
			// A wake-up that came while looking may be for a delivery committed since.
			if wake.Len() > 0 {
				continue
			}
			return nil
		}
		ref := flow.WebhookDeliveryRef{TenantID: q.TenantID, DeliveryID: next}
		err := workflow.ExecuteActivity(sendCtx, a.DeliverWebhook, ref).Get(ctx, nil)
		if err == nil {
			continue
		}
		if temporal.IsCanceledError(err) {
			return err
		}
		reason := fmt.Sprintf("not delivered within %s: %s", in.Retry.Window, applicationMessage(err))
		if err := workflow.ExecuteLocalActivity(dbCtx, a.GiveUpWebhookDelivery, flow.GiveUpWebhookInput{
			WebhookDeliveryRef: ref, Reason: reason,
		}).Get(ctx, nil); err != nil {
			return err
		}
	}
}
