package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/webhooks"
)

// idleLaneWait is how long a lane that sent nothing, though told something
// is due, waits before it looks again (its subscription being disabled, or
// the clocks of worker and database apart), rather than asking at once.
const idleLaneWait = time.Second

// laneLinger is how long a lane with nothing pending waits for a wake-up
// before it ends. Events come in runs (a billing run makes one a contract):
// a lane that ended at every lull was started again moments later, a
// workflow each time (about 19 a second for each subscription during a
// billing run), which cost the Temporal server more than the deliveries.
const laneLinger = time.Minute

// laneLingerChange marks lanes that linger; those that started before end
// as soon as nothing is pending.
const laneLingerChange = "webhook-lane-linger"

// WebhookLaneWorkflow delivers one lane of a subscription: batch after
// batch of its due deliveries, each batch one DeliverWebhooks activity,
// which also keeps failed deliveries' retry schedule in Postgres. When only
// retries remain it sleeps until the earliest, unless woken sooner; when
// nothing is pending it waits laneLinger for a wake-up, then ends, and the
// dispatcher signals-with-start it again when the lane gets a delivery.
func WebhookLaneWorkflow(ctx workflow.Context, in flow.WebhookLaneInput) error {
	var a *activities.Webhooks
	sendCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A batch sends each contract's deliveries one after another, each
		// request bounded by webhooks.Timeout, and heartbeats after each.
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    webhooks.Timeout + 20*time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	wake := workflow.GetSignalChannel(ctx, flow.WebhookWakeSignal)
	for {
		// A wake-up only says "look again", which the next batch does.
		for wake.ReceiveAsync(nil) {
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, WebhookLaneWorkflow, in)
		}
		var left flow.DeliverWebhooksResult
		if err := workflow.ExecuteActivity(sendCtx, a.DeliverWebhooks, in).Get(ctx, &left); err != nil {
			return err
		}
		if !left.Pending {
			// A wake-up that came during the batch may be for a delivery committed since.
			if wake.Len() > 0 {
				continue
			}
			if workflow.GetVersion(ctx, laneLingerChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				return nil
			}
			if sleep(ctx, laneLinger, wake); wake.Len() > 0 {
				continue
			}
			return nil
		}
		wait := left.NextAttemptAt.Sub(workflow.Now(ctx))
		if wait <= 0 && left.Sent == 0 {
			wait = idleLaneWait
		}
		if wait > 0 {
			sleep(ctx, wait, wake)
		}
	}
}

// sleep waits for d on a durable timer, or until a wake-up comes (left on
// the channel for the caller to drain).
func sleep(ctx workflow.Context, d time.Duration, wake workflow.ReceiveChannel) {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(timerCtx, d), func(workflow.Future) {})
	sel.AddReceive(wake, func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
}
