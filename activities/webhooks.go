package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

// Webhook bookkeeping (deliveries, attempts) is stamped with the wall clock,
// not the business clock: it records real HTTP traffic, and the signature's
// timestamp must be one receivers accept.

const (
	// WebhookPollWait is how long one poll for new events waits before it
	// returns empty-handed.
	WebhookPollWait = time.Minute

	// webhookPollInterval is how often a waiting poll looks for new events.
	webhookPollInterval = time.Second
	// webhookBatch bounds the events one fan-out covers.
	webhookBatch = 100
)

// Webhooks fans events out to deliveries and delivers them.
type Webhooks struct {
	store    *store.Store
	sender   *webhooks.Sender
	temporal *flow.Client
}

// NewWebhooks builds the webhook activities: deliveries recorded in s, sent
// with sender, their workflows woken through temporal.
func NewWebhooks(s *store.Store, sender *webhooks.Sender, temporal *flow.Client) *Webhooks {
	return &Webhooks{store: s, sender: sender, temporal: temporal}
}

// ResumeWebhookDispatch tells a starting dispatcher which event to continue
// after and which queues to wake first.
func (a *Webhooks) ResumeWebhookDispatch(ctx context.Context, tenantID string) (flow.WebhookFanOut, error) {
	out, err := a.store.ResumeWebhookDispatch(ctx, tenantID)
	return fanOut(out), err
}

// fanOut is a store fan-out as the dispatcher's history holds it.
func fanOut(f store.WebhookFanOut) flow.WebhookFanOut {
	out := flow.WebhookFanOut{Upto: f.Upto}
	for _, q := range f.Queues {
		out.Queues = append(out.Queues, flow.WebhookQueue(q))
	}
	return out
}

// PollWebhookEvents waits up to WebhookPollWait for events after in.After
// and fans out a batch of them to deliveries. It returns how far it got
// (in.After when nothing came) and the queues to wake. A stopping worker ends
// the wait at once rather than holding its shutdown up.
func (a *Webhooks) PollWebhookEvents(ctx context.Context, in flow.PollWebhookEventsInput) (flow.WebhookFanOut, error) {
	deadline := time.Now().Add(WebhookPollWait)
	for {
		stored, err := a.store.FanOutWebhookEvents(ctx, in.TenantID, in.After, webhookBatch, time.Now())
		out := fanOut(stored)
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

// WakeWebhookQueues wakes each queue's delivery workflow, wakeConcurrency at
// a time; waking one twice is harmless, so a retry may repeat them all.
// One after another, a batch of a billing run's queues (one per contract)
// could outlast the activity's timeout on a busy Temporal, and be repeated
// from its start without end.
func (a *Webhooks) WakeWebhookQueues(ctx context.Context, in flow.WakeWebhookQueuesInput) error {
	if a.temporal == nil {
		// Retried rather than failed: the dispatcher resumes once a worker is configured.
		return errors.New("the worker's activities have no Temporal client to start webhook deliveries with")
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(wakeConcurrency)
	for _, q := range in.Queues {
		g.Go(func() error {
			return a.temporal.WakeWebhookQueue(gctx, flow.WebhookDeliveryInput{Queue: q, Retry: in.Retry})
		})
	}
	return g.Wait()
}

// wakeConcurrency bounds the delivery workflows one WakeWebhookQueues
// signals at once.
const wakeConcurrency = 10

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
	body, err := json.Marshal(job.Event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", job.Event.ID, err)
	}
	resp, sendErr := a.sender.Send(ctx, webhooks.Message{URL: job.URL, Secret: job.Secret, ID: job.Event.ID, Body: body})
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
	if err := a.store.RecordWebhookAttempt(ctx, ref.TenantID, ref.DeliveryID, attempt, outcome); err != nil {
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

// GiveUpWebhookDelivery marks a pending delivery failed.
func (a *Webhooks) GiveUpWebhookDelivery(ctx context.Context, in flow.GiveUpWebhookInput) error {
	return a.store.FailWebhookDelivery(ctx, in.TenantID, in.DeliveryID, in.Reason, time.Now())
}
