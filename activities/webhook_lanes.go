package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

const (
	// webhookLaneBatch bounds the deliveries one DeliverWebhooks tries: a
	// batch's outcomes are recorded together, at its end.
	webhookLaneBatch = 200
	// webhookLaneSenders bounds the requests one batch has in flight, each
	// for a different contract.
	webhookLaneSenders = 8
)

// ResumeWebhookLanes tells a starting dispatcher which event to continue
// after and which lanes to wake first.
func (a *Webhooks) ResumeWebhookLanes(ctx context.Context, tenantID string) (flow.WebhookFanOut, error) {
	out, err := a.store.ResumeWebhookDispatch(ctx, tenantID, false)
	return fanOut(out), err
}

// WakeWebhookLanes wakes each lane's workflow; waking one twice is harmless,
// so a retry may repeat them all.
func (a *Webhooks) WakeWebhookLanes(ctx context.Context, in flow.WakeWebhookLanesInput) error {
	if a.temporal == nil {
		return errNoTemporal
	}
	for _, l := range in.Lanes {
		if err := a.temporal.WakeWebhookLane(ctx, flow.WebhookLaneInput{Lane: l, Retry: in.Retry}); err != nil {
			return err
		}
	}
	return nil
}

// DeliverWebhooks tries a batch of the lane's due deliveries and records
// every attempt. Different contracts are sent in parallel; one contract's
// deliveries go one after another, in event order, and stop at the first
// that is not delivered, which holds the rest back until its retry. A 2xx
// settles a delivery; a 410 settles it, disables the subscription and stops
// the batch; anything else is retried with backoff (in.Retry) until the
// retry window since its first attempt has passed, then given up. It
// returns what the lane has left.
func (a *Webhooks) DeliverWebhooks(ctx context.Context, in flow.WebhookLaneInput) (flow.DeliverWebhooksResult, error) {
	lane := store.WebhookLane(in.Lane)
	batch, err := a.store.DueWebhookDeliveries(ctx, lane, time.Now(), webhookLaneBatch)
	if err != nil {
		return flow.DeliverWebhooksResult{}, err
	}
	// A heartbeat after each attempt: a batch's length depends on its receiver.
	outcomes := a.sendBatch(ctx, batch, in.Retry, func() { activity.RecordHeartbeat(ctx) })
	// Recorded even when the activity is being cancelled: what went out is
	// then not sent again.
	left, err := a.store.RecordWebhookOutcomes(context.WithoutCancel(ctx), lane, outcomes)
	if err != nil {
		return flow.DeliverWebhooksResult{}, fmt.Errorf("record lane %d's batch: %w", in.Lane.Lane, err)
	}
	return flow.DeliverWebhooksResult{Sent: len(outcomes), Pending: left.Pending, NextAttemptAt: left.NextAttemptAt}, nil
}

// sendBatch sends a batch, contract by contract, and returns the outcome of
// every attempt made; it calls progress after each.
func (a *Webhooks) sendBatch(ctx context.Context, batch store.LaneBatch, retry webhooks.Retry, progress func()) []store.WebhookOutcome {
	var contracts [][]store.DueDelivery
	index := map[string]int{}
	for _, d := range batch.Deliveries {
		i, ok := index[d.ContractID]
		if !ok {
			i = len(contracts)
			index[d.ContractID] = i
			contracts = append(contracts, nil)
		}
		contracts[i] = append(contracts[i], d)
	}

	var (
		mu       sync.Mutex
		outcomes []store.WebhookOutcome
		gone     bool
	)
	// record keeps an outcome and says whether the contract's next delivery
	// may go out.
	record := func(o store.WebhookOutcome) bool {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
		gone = gone || o.Gone
		return o.Status == store.DeliveryDelivered && !gone
	}
	work := make(chan []store.DueDelivery)
	var wg sync.WaitGroup
	for range min(webhookLaneSenders, len(contracts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for queue := range work {
				for _, d := range queue {
					delivered := record(a.deliverOne(ctx, batch, d, retry))
					progress()
					if !delivered || ctx.Err() != nil {
						break
					}
				}
			}
		}()
	}
	for _, queue := range contracts {
		mu.Lock()
		stop := gone
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- queue
	}
	close(work)
	wg.Wait()
	return outcomes
}

// deliverOne makes one attempt at a delivery and decides what becomes of it.
func (a *Webhooks) deliverOne(ctx context.Context, batch store.LaneBatch, d store.DueDelivery, retry webhooks.Retry) store.WebhookOutcome {
	attempt, result, failure := a.send(ctx, batch.URL, batch.Secret, d.Event)
	o := store.WebhookOutcome{DeliveryID: d.ID, Attempt: attempt}
	switch result {
	case store.AttemptDelivered:
		o.Status = store.DeliveryDelivered
	case store.AttemptGone:
		o.Status, o.FailureReason, o.Gone = store.DeliveryFailed, "the receiver answered 410 Gone", true
	default:
		first := attempt.At
		if d.FirstAttemptAt != nil {
			first = *d.FirstAttemptAt
		}
		next := attempt.At.Add(retry.Backoff(d.Attempts + 1))
		if next.Sub(first) > retry.Window {
			o.Status, o.FailureReason = store.DeliveryFailed, fmt.Sprintf("not delivered within %s: %s", retry.Window, failure)
		} else {
			o.Status, o.NextAttemptAt = store.DeliveryPending, next
		}
	}
	return o
}
