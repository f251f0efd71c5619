package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// The activities of webhook delivery before lanes: a dispatcher that started
// before lanes keeps waking one delivery workflow per (subscription,
// contract) queue until it continues as new, and those workflows deliver
// one event per activity. They stay registered until no such workflow runs.

// ResumeWebhookDispatch tells a dispatcher from before lanes which event to
// continue after and which queues to wake first.
func (a *Webhooks) ResumeWebhookDispatch(ctx context.Context, tenantID string) (flow.WebhookFanOut, error) {
	out, err := a.store.ResumeWebhookDispatch(ctx, tenantID, true)
	return fanOut(out), err
}

// WakeWebhookQueues wakes each queue's delivery workflow; waking one twice is
// harmless, so a retry may repeat them all.
func (a *Webhooks) WakeWebhookQueues(ctx context.Context, in flow.WakeWebhookQueuesInput) error {
	if a.temporal == nil {
		return errNoTemporal
	}
	for _, q := range in.Queues {
		if err := a.temporal.WakeWebhookQueue(ctx, flow.WebhookDeliveryInput{Queue: q, Retry: in.Retry}); err != nil {
			return err
		}
	}
	return nil
}

// NextWebhookDelivery returns the queue's first pending delivery, or "".
func (a *Webhooks) NextWebhookDelivery(ctx context.Context, q flow.WebhookQueue) (string, error) {
	return a.store.NextWebhookDelivery(ctx, store.WebhookQueue(q))
}

// DeliverWebhook makes one attempt at a delivery and records it. A 2xx
// settles the delivery; a 410 settles it and disables its subscription;
// anything else is an error, retried with backoff. A delivery that is no
// longer pending (delivered by an earlier try, or cancelled) is not sent.
func (a *Webhooks) DeliverWebhook(ctx context.Context, ref flow.WebhookDeliveryRef) error {
	job, err := a.store.WebhookJob(ctx, ref.TenantID, ref.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("webhook delivery "+ref.DeliveryID+" does not exist", "NotFound", err)
	}
	if err != nil || job.Status != store.DeliveryPending {
		return err
	}
	attempt, outcome, failure := a.send(ctx, job.URL, job.Secret, job.Event)
	if err := a.store.RecordWebhookAttempt(ctx, ref.TenantID, ref.DeliveryID, attempt, outcome); err != nil {
		return err
	}
	return failure
}

// GiveUpWebhookDelivery marks a pending delivery failed.
func (a *Webhooks) GiveUpWebhookDelivery(ctx context.Context, in flow.GiveUpWebhookInput) error {
	return a.store.FailWebhookDelivery(ctx, in.TenantID, in.DeliveryID, in.Reason, time.Now())
}
