package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

// Webhook bookkeeping (deliveries, attempts) is stamped with the wall clock,
// not the business clock: it records real HTTP traffic, and the signature's
// timestamp must be one receivers accept.

const (
	// WebhookDeliveryWorkflowType names the workflow that works through one
	// webhook queue. Activities start it by name because the workflows
	// package, which defines it, imports this one.
	WebhookDeliveryWorkflowType = "WebhookDeliveryWorkflow"
	// WebhookWakeSignal tells a delivery workflow its queue may have grown.
	WebhookWakeSignal = "wake"
	// WebhookPollWait is how long one poll for new events waits before it
	// returns empty-handed.
	WebhookPollWait = time.Minute

	// webhookPollInterval is how often a waiting poll looks for new events.
	webhookPollInterval = time.Second
	// webhookBatch bounds the events one fan-out covers.
	webhookBatch = 100
)

// WebhookDeliveryInput is a delivery workflow's input: the queue it works
// through and how it retries.
type WebhookDeliveryInput struct {
	Queue store.WebhookQueue
	Retry webhooks.Retry
}

// WebhookDeliveryWorkflowID: one delivery workflow per queue, so a queue's
// events go out one at a time, in order.
func WebhookDeliveryWorkflowID(q store.WebhookQueue) string {
	return "webhook-delivery/" + q.TenantID + "/" + q.SubscriptionID + "/" + q.ContractID
}

// WakeWebhookQueue tells a queue's delivery workflow to look for pending
// deliveries, starting it if it is not running. Signal-with-start is atomic:
// a workflow that is just finishing either sees the signal or is started anew.
func WakeWebhookQueue(ctx context.Context, c client.Client, taskQueue string, in WebhookDeliveryInput) error {
	id := WebhookDeliveryWorkflowID(in.Queue)
	if _, err := c.SignalWithStartWorkflow(ctx, id, WebhookWakeSignal, nil,
		client.StartWorkflowOptions{TaskQueue: taskQueue}, WebhookDeliveryWorkflowType, in); err != nil {
		return fmt.Errorf("wake %s: %w", id, err)
	}
	return nil
}

// ResumeWebhookDispatch tells a starting dispatcher which event to continue
// after and which queues to wake first.
func (a *Activities) ResumeWebhookDispatch(ctx context.Context, tenantID string) (store.WebhookFanOut, error) {
	return a.Store.ResumeWebhookDispatch(ctx, tenantID)
}

// PollWebhookEventsInput asks for the tenant's events after a sequence.
type PollWebhookEventsInput struct {
	TenantID string
	After    int64
}

// PollWebhookEvents waits up to WebhookPollWait for events after in.After
// and fans out a batch of them to deliveries. It returns how far it got
// (in.After when nothing came) and the queues to wake. A stopping worker ends
// the wait at once rather than holding its shutdown up.
func (a *Activities) PollWebhookEvents(ctx context.Context, in PollWebhookEventsInput) (store.WebhookFanOut, error) {
	deadline := time.Now().Add(WebhookPollWait)
	for {
		out, err := a.Store.FanOutWebhookEvents(ctx, in.TenantID, in.After, webhookBatch, time.Now())
		if err != nil || out.Upto > in.After || time.Now().After(deadline) {
			return out, err
		}
		activity.RecordHeartbeat(ctx)
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-activity.GetWorkerStopChannel(ctx):
			return out, nil
		case <-time.After(webhookPollInterval):
		}
	}
}

// WakeWebhookQueuesInput names queues whose delivery workflows must run.
type WakeWebhookQueuesInput struct {
	Queues []store.WebhookQueue
	Retry  webhooks.Retry
}

// WakeWebhookQueues wakes each queue's delivery workflow; waking one twice is
// harmless, so a retry may repeat them all.
func (a *Activities) WakeWebhookQueues(ctx context.Context, in WakeWebhookQueuesInput) error {
	if a.Temporal == nil {
		// Retried rather than failed: the dispatcher resumes once a worker is configured.
		return errors.New("the worker's activities have no Temporal client to start webhook deliveries with")
	}
	taskQueue := activity.GetInfo(ctx).TaskQueue
	for _, q := range in.Queues {
		if err := WakeWebhookQueue(ctx, a.Temporal, taskQueue, WebhookDeliveryInput{Queue: q, Retry: in.Retry}); err != nil {
			return err
		}
	}
	return nil
}

// NextWebhookDelivery returns the queue's first pending delivery, or "".
func (a *Activities) NextWebhookDelivery(ctx context.Context, q store.WebhookQueue) (string, error) {
	return a.Store.NextWebhookDelivery(ctx, q)
}

// WebhookDeliveryRef names a delivery.
type WebhookDeliveryRef struct {
	TenantID   string
	DeliveryID string
}

// DeliverWebhook makes one attempt at a delivery and records it. A 2xx
// settles the delivery; a 410 settles it and disables its subscription;
// anything else is an error, retried with backoff. A delivery that is no
// longer pending (delivered by an earlier try, or cancelled) is not sent.
func (a *Activities) DeliverWebhook(ctx context.Context, ref WebhookDeliveryRef) error {
	job, err := a.Store.WebhookJob(ctx, ref.TenantID, ref.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("webhook delivery "+ref.DeliveryID+" does not exist", "NotFound", err)
	}
	if err != nil || job.Status != store.DeliveryPending {
		return err
	}
	body, err := json.Marshal(job.Event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", job.Event.ID, err)
	}
	resp, sendErr := a.Webhooks.Send(ctx, webhooks.Message{URL: job.URL, Secret: job.Secret, ID: job.Event.ID, Body: body})
	attempt := store.WebhookAttempt{At: resp.SentAt, LatencyMs: resp.Latency.Milliseconds()}
	outcome := store.AttemptFailed
	if sendErr != nil {
		msg := sendErr.Error()
		attempt.Error = &msg
	} else {
		attempt.StatusCode = &resp.StatusCode
		if resp.Body != "" {
			attempt.ResponseBody = &resp.Body
		}
		switch {
		case resp.Delivered():
			outcome = store.AttemptDelivered
		case resp.Gone():
			outcome = store.AttemptGone
		}
	}
	if err := a.Store.RecordWebhookAttempt(ctx, ref.TenantID, ref.DeliveryID, attempt, outcome); err != nil {
		return err
	}
	switch {
	case sendErr != nil:
		return fmt.Errorf("send event %s: %w", job.Event.ID, sendErr)
	case outcome == store.AttemptFailed:
		return fmt.Errorf("the receiver answered %d to event %s", resp.StatusCode, job.Event.ID)
	}
	return nil
}

// GiveUpWebhookInput gives a delivery up, saying why.
type GiveUpWebhookInput struct {
	WebhookDeliveryRef
	Reason string
}

// GiveUpWebhookDelivery marks a pending delivery failed.
func (a *Activities) GiveUpWebhookDelivery(ctx context.Context, in GiveUpWebhookInput) error {
	return a.Store.FailWebhookDelivery(ctx, in.TenantID, in.DeliveryID, in.Reason, time.Now())
}
