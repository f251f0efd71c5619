// Package worker builds the Temporal worker that runs the service's workflows
// and activities.
package worker

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/workflows"
)

// New registers every workflow and activity on a worker polling taskQueue.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{})
	w.RegisterWorkflow(workflows.ContractActionWorkflow)
	w.RegisterWorkflow(workflows.AmendmentWorkflow)
	w.RegisterWorkflow(workflows.ScheduleChangeWorkflow)
	w.RegisterWorkflow(workflows.BillingRunWorkflow)
	w.RegisterWorkflow(workflows.DunningWorkflow)
	w.RegisterWorkflow(workflows.DailyBillingWorkflow)
	w.RegisterActivity(acts)
	return w
}

// EnsureSearchAttributes registers the custom search attributes the workflows
// set, so operators can filter by them; attributes already present are kept.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes {
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
	return nil
}
