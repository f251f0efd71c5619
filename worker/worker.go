// Package worker builds the Temporal worker that runs the service's workflows
// and activities.
package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// StopTimeout is how long Stop lets running activities finish before it
// cancels them. The SDK's default is none: an activity running at shutdown
// is cancelled and retried only once its start-to-close timeout has passed.
// This stays under the 30 seconds Kubernetes waits after SIGTERM
// (docker-compose.yml gives the worker 40).
const StopTimeout = 25 * time.Second

// Options are what a deployment or a test adds to a worker.
type Options struct {
	// UpdateKey checks that Updates come from the API (CONTRACTD_UPDATE_KEY);
	// without it, workflows refuse every Update.
	UpdateKey flow.UpdateKey
	// Interceptors run inside the worker's own (which classify permanent
	// failures); tests add one that injects failures.
	Interceptors []interceptor.WorkerInterceptor
}

// New registers every workflow, under its flow name, and every activity
// group built from deps on a worker polling taskQueue.
func New(c client.Client, taskQueue string, deps activities.Deps, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		WorkerStopTimeout: StopTimeout,
		Interceptors: append([]interceptor.WorkerInterceptor{&permanentFailures{}, workflows.NewUpdateKeyInterceptor(opts.UpdateKey)},
			opts.Interceptors...),
	})
	for name, fn := range workflowsByName() {
		w.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
	for _, group := range activities.New(deps).All() {
		w.RegisterActivity(group)
	}
	return w
}

// workflowsByName are the workflows under the names flow starts them by.
func workflowsByName() map[string]any {
	return map[string]any{
		flow.AmendmentWorkflow:        workflows.AmendmentWorkflow,
		flow.ContractActionWorkflow:   workflows.ContractActionWorkflow,
		flow.ScheduleChangeWorkflow:   workflows.ScheduleChangeWorkflow,
		flow.BillingRunWorkflow:       workflows.BillingRunWorkflow,
		flow.DunningWorkflow:          workflows.DunningWorkflow,
		flow.DailyBillingWorkflow:     workflows.DailyBillingWorkflow,
		flow.ContractTermWorkflow:     workflows.ContractTermWorkflow,
		flow.TermsSweepWorkflow:       workflows.TermsSweepWorkflow,
		flow.WebhookDispatchWorkflow:  workflows.WebhookDispatchWorkflow,
		flow.WebhookDeliveryWorkflow:  workflows.WebhookDeliveryWorkflow,
		flow.WebhookLaneWorkflow:      workflows.WebhookLaneWorkflow,
		flow.TestClockAdvanceWorkflow: workflows.TestClockAdvanceWorkflow,
		flow.TestClockDeleteWorkflow:  workflows.TestClockDeleteWorkflow,
	}
}

// namespaceCacheSettle is how long after Temporal's frontend accepts new
// search attributes its other services are sure to know them too. With SQL
// visibility an attribute's name is an alias the namespace holds, and each
// service learns it when it next refreshes its namespace cache, every 2 s by
// default (system.namespaceCacheRefreshInterval); until then a workflow
// started or upserting with it is refused.
const namespaceCacheSettle = 3 * time.Second

// EnsureSearchAttributes registers the custom search attributes the workflows
// set, so operators can filter by them; attributes already present are kept.
// Those it adds it waits for, until every Temporal service can use them.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range flow.SearchAttributes {
		if _, ok := existing.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return awaitSearchAttributes(ctx, c, namespace, missing)
}

// awaitSearchAttributes waits until the frontend accepts a visibility query
// naming the keyword attributes added (all of contractd's are keywords),
// then for the other services' namespace caches.
func awaitSearchAttributes(ctx context.Context, c client.Client, namespace string, added map[string]enumspb.IndexedValueType) error {
	names := slices.Sorted(maps.Keys(added))
	var clauses []string
	for _, name := range names {
		if added[name] == enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			clauses = append(clauses, name+" = 'contractd'")
		}
	}
	query := &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: strings.Join(clauses, " AND ")}
	for len(clauses) > 0 {
		_, err := c.CountWorkflow(ctx, query)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for search attributes %v: %w (last: %v)", names, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait for search attributes %v: %w", names, ctx.Err())
	case <-time.After(namespaceCacheSettle):
		return nil
	}
}
