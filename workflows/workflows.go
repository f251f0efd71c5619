// Package workflows holds the service's Temporal workflows: deterministic
// orchestration only. Every side effect runs in an activity; time comes from
// workflow.Now and timers. Their names, ids and payloads are the contract in
// internal/flow; the worker registers each under its flow name.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// withDatabaseStep runs short Postgres steps as local activities: they are
// recorded in history like activities but skip a round trip through the task
// queue. Infrastructure failures retry with backoff for up to
// databaseStepPatience; business refusals are non-retryable application
// errors and surface at once, and so do failures that can never succeed
// (domain.KindInternal, classified by the worker).
func withDatabaseStep(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, databaseStep(nil))
}

// withWaitedOnStep is withDatabaseStep for a workflow its caller waits on
// that leaves nothing half done when it gives up (a contract action, a
// schedule change, a test clock's deletion: each one transaction): its
// steps are retried for 30 s in all, and then the caller is answered
// rather than kept waiting.
func withWaitedOnStep(ctx workflow.Context) workflow.Context {
	opts := databaseStep(nil)
	opts.ScheduleToCloseTimeout = waitedOnStepPatience
	return workflow.WithLocalActivityOptions(ctx, opts)
}

// waitedOnStepPatience is what the SDK made of every step's retries before
// databaseStepPatience: its one attempt's timeout.
const waitedOnStepPatience = 30 * time.Second

// databaseStep is withDatabaseStep's options, with errors of the types
// named left to the workflow rather than retried.
func databaseStep(notRetried []string) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: databaseStepPatience,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: notRetried,
		},
	}
}

// databaseStepPatience bounds a database step's retries in all. Unset, the
// SDK bounds a local activity's retries by its one attempt's timeout: a
// step still failing after 30 s (Postgres down that long, an amendment
// waiting its turn behind one that takes longer to apply) then failed its
// workflow with an error that settles nothing, leaving its amendment open
// and its contract blocked. Not longer than a day: past the workflow task
// timeout each retry is a timer in the workflow's history (about six events
// every 30 s), and a day of them stays well within Temporal's limit.
const databaseStepPatience = 24 * time.Hour
