// Package workflows holds the service's Temporal workflows: deterministic
// orchestration only. Every side effect runs in an activity; time comes from
// workflow.Now and timers.
package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DefaultTaskQueue is the queue the contract workers poll unless configured
// otherwise (TEMPORAL_TASK_QUEUE); tests give each test its own.
const DefaultTaskQueue = "contracts"

// Search attributes operators filter on in the Temporal UI.
var (
	TenantIDKey        = temporal.NewSearchAttributeKeyKeyword("TenantId")
	ContractIDKey      = temporal.NewSearchAttributeKeyKeyword("ContractId")
	AmendmentActionKey = temporal.NewSearchAttributeKeyKeyword("AmendmentAction")
	AmendmentStatusKey = temporal.NewSearchAttributeKeyKeyword("AmendmentStatus")
)

// SearchAttributes lists the custom attributes a namespace must have registered.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	TenantIDKey.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ContractIDKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AmendmentActionKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AmendmentStatusKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

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
