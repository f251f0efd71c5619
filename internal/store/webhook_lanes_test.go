package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// Fan-out assigns lanes in Postgres, the lane workflows are named in Go:
// both must put a contract in the same lane.
func TestWebhookLaneIsTheSameInGoAndPostgres(t *testing.T) {
	st := testdb.Migrated(t)
	for range 500 {
		id := uuid.NewString()
		var lane int
		require.NoError(t, st.DB().Get(&lane, `SELECT webhook_lane($1, $2)`, id, flow.WebhookLanes))
		require.Equal(t, flow.WebhookLaneOf(id), lane, id)
	}
}

// laneFixture is a tenant with one subscription and two contracts that
// share a lane.
type laneFixture struct {
	st           *store.Store
	lane         store.WebhookLane
	hookID, x, y string
}

func newLaneFixture(t *testing.T) laneFixture {
	ctx := context.Background()
	st := testdb.Migrated(t)
	tenant, err := st.CreateTenant(ctx, store.Tenant{Prefix: "LANES", Name: "lanes"}, nil)
	require.NoError(t, err)
	hook, err := st.CreateWebhook(ctx, store.NewWebhook{ID: uuid.NewString(), TenantID: tenant.ID, URL: "https://example.com/hooks",
		Events: []string{store.EventContractCreated, store.EventInvoiceCreated}, Secret: "whsec_x", ActorID: uuid.NewString()}, time.Now())
	require.NoError(t, err)
	x := uuid.NewString()
	y := uuid.NewString()
	for flow.WebhookLaneOf(y) != flow.WebhookLaneOf(x) {
		y = uuid.NewString()
	}
	return laneFixture{st: st, hookID: hook.ID, x: x, y: y,
		lane: store.WebhookLane{TenantID: tenant.ID, SubscriptionID: hook.ID, Lane: flow.WebhookLaneOf(x)}}
}

// events appends an event for each contract named, in that order, and fans
// them out.
func (f laneFixture) events(t *testing.T, contracts ...string) store.WebhookFanOut {
	ctx := context.Background()
	var evs []store.TestEvent
	for _, c := range contracts {
		evs = append(evs, store.TestEvent{TenantID: f.lane.TenantID, Type: store.EventInvoiceCreated, ContractID: c, At: time.Now(), Data: map[string]any{}})
	}
	require.NoError(t, store.AppendEvents(ctx, f.st, evs))
	out, err := f.st.FanOutWebhookEvents(ctx, f.lane.TenantID, 0, 100, time.Now(), false)
	require.NoError(t, err)
	return out
}

func (f laneFixture) due(t *testing.T, at time.Time) []store.DueDelivery {
	batch, err := f.st.DueWebhookDeliveries(context.Background(), f.lane, at, 200)
	require.NoError(t, err)
	return batch.Deliveries
}

func contractsOf(ds []store.DueDelivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ContractID)
	}
	return out
}

func outcome(d store.DueDelivery, at time.Time, status string) store.WebhookOutcome {
	code := 200
	if status != store.DeliveryDelivered {
		code = 503
	}
	o := store.WebhookOutcome{DeliveryID: d.ID, Status: status, Attempt: store.WebhookAttempt{At: at, StatusCode: &code, LatencyMs: 3}}
	switch status {
	case store.DeliveryPending:
		o.NextAttemptAt = at.Add(time.Minute)
	case store.DeliveryFailed:
		o.FailureReason = "not delivered within 1h0m0s: the receiver answered 503"
	}
	return o
}

// A lane hands out its contracts' deliveries in event order; a delivery
// waiting for its retry holds back its own contract's later ones, not the
// other contract's, and its retry comes when its time does, numbered after
// the first attempt.
func TestWebhookLaneHoldsBackOnlyTheContractOfAFailedDelivery(t *testing.T) {
	ctx := context.Background()
	f := newLaneFixture(t)
	fan := f.events(t, f.x, f.y, f.x, f.y, f.x)
	assert.Equal(t, []store.WebhookLane{f.lane}, fan.Lanes, "one lane to wake")
	now := time.Now().Truncate(time.Microsecond) // as Postgres keeps it
	first := f.due(t, now)
	require.Equal(t, []string{f.x, f.y, f.x, f.y, f.x}, contractsOf(first))
	for i := 1; i < len(first); i++ {
		assert.Less(t, first[i-1].Event.Sequence, first[i].Event.Sequence, "in event order")
	}

	// x's first delivery fails; y's both go out (x's later ones were not tried).
	left, err := f.st.RecordWebhookOutcomes(ctx, f.lane, []store.WebhookOutcome{
		outcome(first[0], now, store.DeliveryPending), outcome(first[1], now, store.DeliveryDelivered), outcome(first[3], now, store.DeliveryDelivered),
	})
	require.NoError(t, err)
	assert.True(t, left.Pending)
	assert.True(t, now.Add(time.Minute).Equal(left.NextAttemptAt), "the lane's next attempt is x's retry: %s", left.NextAttemptAt)
	assert.Empty(t, f.due(t, now.Add(59*time.Second)), "x waits for its retry, its later events behind it")

	retry := f.due(t, now.Add(time.Minute))
	require.Equal(t, []string{f.x, f.x, f.x}, contractsOf(retry))
	assert.Equal(t, first[0].ID, retry[0].ID)
	assert.Equal(t, 1, retry[0].Attempts)
	require.NotNil(t, retry[0].FirstAttemptAt)
	assert.True(t, now.Equal(*retry[0].FirstAttemptAt))

	// Given up, it lets the next go.
	later := now.Add(time.Minute)
	_, err = f.st.RecordWebhookOutcomes(ctx, f.lane, []store.WebhookOutcome{outcome(retry[0], later, store.DeliveryFailed)})
	require.NoError(t, err)
	assert.Equal(t, []string{retry[1].ID, retry[2].ID}, []string{f.due(t, later)[0].ID, f.due(t, later)[1].ID})

	list, _, err := f.st.WebhookDeliveries(ctx, f.lane.TenantID, f.hookID, 0, 10)
	require.NoError(t, err)
	for _, d := range list {
		if d.ID != retry[0].ID {
			continue
		}
		assert.Equal(t, store.DeliveryFailed, d.Status)
		require.Len(t, d.Attempts, 2)
		assert.Equal(t, []int{1, 2}, []int{d.Attempts[0].Attempt, d.Attempts[1].Attempt})
		assert.Contains(t, *d.FailureReason, "not delivered within")
	}
}

// answeredGone fans out an event for each of the fixture's contracts and
// answers the first delivery due 410 Gone; it returns the deliveries due
// and that outcome.
func (f laneFixture) answeredGone(t *testing.T) ([]store.DueDelivery, store.WebhookOutcome) {
	f.events(t, f.x, f.y)
	due := f.due(t, time.Now())
	gone := outcome(due[0], time.Now(), store.DeliveryFailed)
	gone.Gone, gone.FailureReason = true, "the receiver answered 410 Gone"
	return due, gone
}

// A 410 Gone settles its delivery, disables the subscription and cancels
// the lane's other pending deliveries, which leaves nothing pending.
func TestWebhookLaneAnsweredGoneDisablesTheSubscription(t *testing.T) {
	ctx := context.Background()
	f := newLaneFixture(t)
	_, gone := f.answeredGone(t)
	left, err := f.st.RecordWebhookOutcomes(ctx, f.lane, []store.WebhookOutcome{gone})
	require.NoError(t, err)
	assert.False(t, left.Pending)
	hooks, err := f.st.Webhooks(ctx, f.lane.TenantID)
	require.NoError(t, err)
	require.Len(t, hooks, 1)
	assert.Equal(t, store.WebhookDisabled, hooks[0].Status)
	assert.Empty(t, f.due(t, time.Now()))
}

// Two lanes of one subscription answered 410 Gone at about the same time:
// each disables the subscription and cancels its pending deliveries, the
// other lane's included. Each takes the subscription's lock before it
// settles its own deliveries; otherwise each would hold its deliveries
// while waiting for the subscription the other holds, and Postgres would
// end one, losing what its lane had delivered.
func TestLanesAnsweredGoneAtOnceTakeTheSubscriptionInTurn(t *testing.T) {
	ctx := context.Background()
	f := newLaneFixture(t)
	due, gone := f.answeredGone(t)

	// The other lane was answered Gone first: it has disabled the subscription.
	other, err := f.st.DB().BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = other.Rollback() }()
	_, err = other.Exec(`UPDATE webhook_subscriptions SET status = $2 WHERE id = $1`, f.hookID, store.WebhookDisabled)
	require.NoError(t, err)

	recorded := make(chan error, 1)
	go func() {
		_, err := f.st.RecordWebhookOutcomes(ctx, f.lane, []store.WebhookOutcome{gone})
		recorded <- err
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		err := f.st.DB().Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`)
		return err == nil && waiting
	}, 10*time.Second, 20*time.Millisecond, "this lane waits for the subscription")
	// The other lane cancels the subscription's pending deliveries, this lane's among them.
	_, err = other.Exec(`UPDATE webhook_deliveries SET status = $2, next_attempt_at = NULL WHERE subscription_id = $1 AND status = $3`,
		f.hookID, store.DeliveryCancelled, store.DeliveryPending)
	require.NoError(t, err, "the other lane cancels the pending deliveries while this one waits")
	require.NoError(t, other.Commit())
	require.NoError(t, <-recorded, "this lane records its attempt once the other lane is done")

	list, _, err := f.st.WebhookDeliveries(ctx, f.lane.TenantID, f.hookID, 0, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, d := range list {
		assert.Equal(t, store.DeliveryCancelled, d.Status, "cancelled by the lane that disabled the subscription first")
		if d.ID == due[0].ID {
			assert.Len(t, d.Attempts, 1, "the Gone answer is recorded")
		}
	}
}

// A redelivery goes to its contract's lane, due at once; a settled delivery
// cannot keep a next attempt (the constraint).
func TestWebhookRedeliveryIsDueInItsLane(t *testing.T) {
	ctx := context.Background()
	f := newLaneFixture(t)
	f.events(t, f.x)
	due := f.due(t, time.Now())
	_, err := f.st.RecordWebhookOutcomes(ctx, f.lane, []store.WebhookOutcome{outcome(due[0], time.Now(), store.DeliveryDelivered)})
	require.NoError(t, err)
	assert.Empty(t, f.due(t, time.Now()))

	again, lane, err := f.st.Redeliver(ctx, f.lane.TenantID, f.hookID, due[0].ID, time.Now())
	require.NoError(t, err)
	assert.Equal(t, f.lane, lane)
	redue := f.due(t, time.Now())
	require.Len(t, redue, 1)
	assert.Equal(t, again.ID, redue[0].ID)

	_, err = f.st.DB().Exec(`UPDATE webhook_deliveries SET status = 'DELIVERED' WHERE id = $1`, again.ID)
	assert.ErrorContains(t, err, "webhook_deliveries_next_attempt_check")
}
