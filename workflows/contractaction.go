package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/store"
)

// ContractActionWorkflowID is deterministic per tenant and action, so a retried
// request (same Idempotency-Key, same action id) joins the first execution.
func ContractActionWorkflowID(tenantID, actionID string) string {
	return "contract-action/" + tenantID + "/" + actionID
}

// ContractActionWorkflow creates the contracts of one contract-actions request.
func ContractActionWorkflow(ctx workflow.Context, in activities.CreateContractsInput) (store.ContractAction, error) {
	var a *activities.Activities
	var out store.ContractAction
	err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.CreateContracts, in).Get(ctx, &out)
	return out, err
}
