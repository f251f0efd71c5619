package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/webhooks"
	"github.com/contractd/contractd/workflows"
)

// hooks names the activities the mocks stand in for.
var hooks *activities.Webhooks

var (
	queueA      = flow.WebhookQueue{TenantID: "t-1", SubscriptionID: "s-1", ContractID: "c-1"}
	laneA       = flow.WebhookLane{TenantID: "t-1", SubscriptionID: "s-1", Lane: 3}
	laneB       = flow.WebhookLane{TenantID: "t-1", SubscriptionID: "s-1", Lane: 11}
	testRetry   = webhooks.Retry{InitialInterval: time.Second, MaximumInterval: time.Minute, Window: time.Hour}
	errReceiver = errors.New("the receiver answered 503")
)

func webhookEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.WebhookDispatchWorkflow)
	env.RegisterWorkflowWithOptions(workflows.WebhookDeliveryWorkflow, workflow.RegisterOptions{Name: flow.WebhookDeliveryWorkflow})
	env.RegisterWorkflowWithOptions(workflows.WebhookLaneWorkflow, workflow.RegisterOptions{Name: flow.WebhookLaneWorkflow})
	return env
}

// nextDeliveries makes NextWebhookDelivery hand out ids one call at a time,
// then "" for an empty queue.
func nextDeliveries(ids ...string) func(context.Context, flow.WebhookQueue) (string, error) {
	return func(context.Context, flow.WebhookQueue) (string, error) {
		if len(ids) == 0 {
			return "", nil
		}
		next := ids[0]
		ids = ids[1:]
		return next, nil
	}
}

// The per-queue delivery workflow is from before lanes (webhooks_legacy.go);
// running ones must still work through their queue.

func TestWebhookDeliveryWorksThroughItsQueueInOrder(t *testing.T) {
	env := webhookEnv(t)
	env.OnActivity(hooks.NextWebhookDelivery, mock.Anything, queueA).Return(nextDeliveries("d-1", "d-2", "d-3"))
	var sent []string
	env.OnActivity(hooks.DeliverWebhook, mock.Anything, mock.Anything).Return(func(_ context.Context, ref flow.WebhookDeliveryRef) error {
		sent = append(sent, ref.DeliveryID)
		return nil
	})

	env.ExecuteWorkflow(workflows.WebhookDeliveryWorkflow, flow.WebhookDeliveryInput{Queue: queueA, Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []string{"d-1", "d-2", "d-3"}, sent)
}

// A delivery that keeps failing is retried with backoff for the retry
// window, then given up; the deliveries behind it go out after it.
func TestWebhookDeliveryIsGivenUpAfterItsRetryWindow(t *testing.T) {
	// The test environment stops retrying after 10 attempts, so the window
	// must end before that.
	retry := webhooks.Retry{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, Window: time.Minute}
	env := webhookEnv(t)
	env.OnActivity(hooks.NextWebhookDelivery, mock.Anything, queueA).Return(nextDeliveries("d-1", "d-2"))
	var sent []string
	var firstTry, lastTry time.Time
	env.OnActivity(hooks.DeliverWebhook, mock.Anything, mock.Anything).Return(func(_ context.Context, ref flow.WebhookDeliveryRef) error {
		sent = append(sent, ref.DeliveryID)
		if ref.DeliveryID != "d-1" {
			return nil
		}
		if firstTry.IsZero() {
			firstTry = env.Now()
		}
		lastTry = env.Now()
		return errReceiver
	})
	env.OnActivity(hooks.GiveUpWebhookDelivery, mock.Anything, mock.MatchedBy(func(in flow.GiveUpWebhookInput) bool {
		return in.DeliveryID == "d-1" && strings.Contains(in.Reason, errReceiver.Error())
	})).Return(nil).Once()

	env.ExecuteWorkflow(workflows.WebhookDeliveryWorkflow, flow.WebhookDeliveryInput{Queue: queueA, Retry: retry})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Greater(t, len(sent), 5, "retried with backoff")
	assert.Equal(t, "d-2", sent[len(sent)-1], "the next delivery goes out after the first is given up")
	assert.LessOrEqual(t, lastTry.Sub(firstTry), retry.Window)
	assert.Greater(t, lastTry.Sub(firstTry), retry.Window-2*retry.MaximumInterval, "retried for about the whole window")
}

// The dispatcher wakes the lanes its predecessor may have left pending,
// then those each batch of events fills, polling after the last event seen.
func TestWebhookDispatchWakesLanesBatchByBatch(t *testing.T) {
	env := webhookEnv(t)
	env.OnActivity(hooks.ResumeWebhookLanes, mock.Anything, "t-1").Return(flow.WebhookFanOut{Upto: 5, Lanes: []flow.WebhookLane{laneA}}, nil)
	var woken [][]flow.WebhookLane
	env.OnActivity(hooks.WakeWebhookLanes, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.WakeWebhookLanesInput) error {
		assert.Equal(t, testRetry, in.Retry)
		woken = append(woken, in.Lanes)
		return nil
	})
	poll := func(after int64) flow.PollWebhookEventsInput {
		return flow.PollWebhookEventsInput{TenantID: "t-1", After: after, Lanes: true}
	}
	env.OnActivity(hooks.PollWebhookEvents, mock.Anything, poll(5)).Return(flow.WebhookFanOut{Upto: 5}, nil).Once()
	env.OnActivity(hooks.PollWebhookEvents, mock.Anything, poll(5)).
		Return(flow.WebhookFanOut{Upto: 9, Lanes: []flow.WebhookLane{laneA, laneB}}, nil).Once()
	// The dispatcher runs for good; a refused poll ends the test.
	env.OnActivity(hooks.PollWebhookEvents, mock.Anything, poll(9)).
		Return(flow.WebhookFanOut{}, temporal.NewNonRetryableApplicationError("stop", "test", nil)).Once()

	env.ExecuteWorkflow(workflows.WebhookDispatchWorkflow, flow.WebhookDispatchInput{TenantID: "t-1", Retry: testRetry})

	require.True(t, env.IsWorkflowCompleted())
	require.Error(t, env.GetWorkflowError())
	assert.Equal(t, [][]flow.WebhookLane{{laneA}, {laneA, laneB}}, woken, "an empty poll wakes nothing")
}
