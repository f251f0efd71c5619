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
// queue. Infrastructure failures retry with backoff; business refusals are
// non-retryable application errors and surface at once, and so do failures
// that can never succeed (domain.KindInternal, classified by the worker).
func withDatabaseStep(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
}
