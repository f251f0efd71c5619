package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

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
	// webhookBatch bounds the events one fan-out covers. Fan-out is one
	// statement per batch and wakes at most a subscription's lanes, so a
	// large batch is cheap; at 100 the dispatcher's round trips, not the
	// lanes, bounded delivery (about 95 events/s from a billing run).
	webhookBatch = 1000
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

// fanOut is a store fan-out as the dispatcher's history holds it.
func fanOut(f store.WebhookFanOut) flow.WebhookFanOut {
	out := flow.WebhookFanOut{Upto: f.Upto}
	for _, q := range f.Queues {
		out.Queues = append(out.Queues, flow.WebhookQueue(q))
	}
	for _, l := range f.Lanes {
		out.Lanes = append(out.Lanes, flow.WebhookLane(l))
	}
	return out
}

// PollWebhookEvents waits up to WebhookPollWait for events after in.After
// and fans out a batch of them to deliveries. It returns how far it got
// (in.After when nothing came) and the lanes (for a dispatcher from before
// lanes, the queues) to wake. A stopping worker ends the wait at once rather
// than holding its shutdown up.
func (a *Webhooks) PollWebhookEvents(ctx context.Context, in flow.PollWebhookEventsInput) (flow.WebhookFanOut, error) {
	deadline := time.Now().Add(WebhookPollWait)
	for {
		stored, err := a.store.FanOutWebhookEvents(ctx, in.TenantID, in.After, webhookBatch, time.Now(), !in.Lanes)
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

// errNoTemporal fails a wake-up on a worker built without a Temporal
// client; retried rather than failed, the dispatcher resumes once a worker
// is configured.
var errNoTemporal = errors.New("the worker's activities have no Temporal client to start workflows with")

// send makes one attempt at delivering an event to a subscription and says
// what it means for the delivery. failure describes an attempt that did not
// deliver (nil otherwise), as it is kept when the delivery is given up.
func (a *Webhooks) send(ctx context.Context, url, secret string, ev store.Event) (attempt store.WebhookAttempt, outcome store.AttemptOutcome, failure error) {
	body, err := json.Marshal(ev)
	if err != nil {
		failure = fmt.Errorf("encode event %s: %w", ev.ID, err)
		msg := failure.Error()
		return store.WebhookAttempt{At: time.Now(), Error: &msg}, store.AttemptFailed, failure
	}
	resp, sendErr := a.sender.Send(ctx, webhooks.Message{URL: url, Secret: secret, ID: ev.ID, Body: body})
	attempt = store.WebhookAttempt{At: resp.SentAt, LatencyMs: resp.Latency.Milliseconds()}
	if sendErr != nil {
		msg := sendErr.Error()
		attempt.Error = &msg
		return attempt, store.AttemptFailed, fmt.Errorf("send event %s: %w", ev.ID, sendErr)
	}
	attempt.StatusCode = &resp.StatusCode
	if resp.Body != "" {
		attempt.ResponseBody = &resp.Body
	}
	switch {
	case resp.Delivered():
		return attempt, store.AttemptDelivered, nil
	case resp.Gone():
		return attempt, store.AttemptGone, nil
	}
	return attempt, store.AttemptFailed, fmt.Errorf("the receiver answered %d to event %s", resp.StatusCode, ev.ID)
}
