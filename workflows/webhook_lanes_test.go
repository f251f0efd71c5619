package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// What a lane's batches deliver, in which order, and when a failed delivery
// is given up is the DeliverWebhooks activity's (activities/webhook_lanes_test.go,
// on a real receiver) and the store's (internal/store/webhook_lanes_test.go);
// these tests cover when the lane workflow runs its batches.

// batches makes DeliverWebhooks answer each call with the next result, and
// records the (test clock's) time of each call.
func batches(env interface{ Now() time.Time }, calls *[]time.Time, results ...flow.DeliverWebhooksResult) func(context.Context, flow.WebhookLaneInput) (flow.DeliverWebhooksResult, error) {
	return func(context.Context, flow.WebhookLaneInput) (flow.DeliverWebhooksResult, error) {
		*calls = append(*calls, env.Now())
		next := results[0]
		results = results[1:]
		return next, nil
	}
}

// A lane runs batch after batch while deliveries are due, and ends when
// none is pending.
func TestWebhookLaneRunsBatchesUntilNothingIsPending(t *testing.T) {
	env := webhookEnv(t)
	var calls []time.Time
	env.OnActivity(hooks.DeliverWebhooks, mock.Anything, flow.WebhookLaneInput{Lane: laneA, Retry: testRetry}).Return(batches(env, &calls,
		flow.DeliverWebhooksResult{Sent: 200, Pending: true, NextAttemptAt: env.Now()},
		flow.DeliverWebhooksResult{Sent: 50},
	))

	env.ExecuteWorkflow(workflows.WebhookLaneWorkflow, flow.WebhookLaneInput{Lane: laneA, Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0], calls[1], "the second batch follows at once")
}

// A lane with nothing pending waits for a wake-up before it ends: events
// come in runs, and a lane that ended at every lull would be started again a
// moment later.
func TestWebhookLaneLingersForTheNextWakeUp(t *testing.T) {
	env := webhookEnv(t)
	start := env.Now()
	var calls []time.Time
	env.OnActivity(hooks.DeliverWebhooks, mock.Anything, mock.Anything).Return(batches(env, &calls,
		flow.DeliverWebhooksResult{Sent: 5},
		flow.DeliverWebhooksResult{Sent: 2},
	))
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(flow.WebhookWakeSignal, nil) }, 20*time.Second)

	env.ExecuteWorkflow(workflows.WebhookLaneWorkflow, flow.WebhookLaneInput{Lane: laneA, Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 2, "the wake-up is served by the same run")
	assert.Equal(t, start.Add(20*time.Second), calls[1])
	assert.Equal(t, start.Add(20*time.Second+time.Minute), env.Now(), "and the run ends a minute after its last batch")
}

// When only retries remain, the lane sleeps on a timer until the earliest
// is due, then tries it.
func TestWebhookLaneSleepsUntilTheNextAttempt(t *testing.T) {
	env := webhookEnv(t)
	retryAt := env.Now().Add(40 * time.Minute)
	var calls []time.Time
	env.OnActivity(hooks.DeliverWebhooks, mock.Anything, mock.Anything).Return(batches(env, &calls,
		flow.DeliverWebhooksResult{Sent: 3, Pending: true, NextAttemptAt: retryAt},
		flow.DeliverWebhooksResult{Sent: 1},
	))

	env.ExecuteWorkflow(workflows.WebhookLaneWorkflow, flow.WebhookLaneInput{Lane: laneA, Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 2)
	assert.False(t, calls[1].Before(retryAt), "the retry waits for its time: %s < %s", calls[1], retryAt)
	assert.Less(t, calls[1].Sub(retryAt), time.Second, "and not longer")
}

// A wake-up (a new delivery in the lane) ends the sleep at once: the new
// contract's event does not wait for another contract's retry.
func TestWebhookLaneWokenDuringItsSleepLooksAtOnce(t *testing.T) {
	env := webhookEnv(t)
	start := env.Now()
	var calls []time.Time
	env.OnActivity(hooks.DeliverWebhooks, mock.Anything, mock.Anything).Return(batches(env, &calls,
		flow.DeliverWebhooksResult{Sent: 1, Pending: true, NextAttemptAt: start.Add(time.Hour)},
		flow.DeliverWebhooksResult{Sent: 1, Pending: true, NextAttemptAt: start.Add(time.Hour)},
		flow.DeliverWebhooksResult{Sent: 1},
	))
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(flow.WebhookWakeSignal, nil) }, 5*time.Minute)

	env.ExecuteWorkflow(workflows.WebhookLaneWorkflow, flow.WebhookLaneInput{Lane: laneA, Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 3)
	assert.Equal(t, start.Add(5*time.Minute), calls[1], "woken")
	assert.False(t, calls[2].Before(start.Add(time.Hour)), "then asleep again until the retry")
}
