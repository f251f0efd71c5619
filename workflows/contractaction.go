package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
)

// ContractActionWorkflow creates the contracts of one contract-actions request.
func ContractActionWorkflow(ctx workflow.Context, in flow.CreateContractsInput) (flow.ContractAction, error) {
	var a *activities.Contracts
	var out flow.ContractAction
	err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.CreateContracts, in).Get(ctx, &out)
	return out, err
}
