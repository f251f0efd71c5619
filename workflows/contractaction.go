package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
)

// changeContractTerms marks the change that has a contract action start the
// term workflows of the contracts it created whose notice date has come
// (created back-dated, or with a short term): the daily sweep would find
// them only the next day.
const changeContractTerms = "contract-terms"

// ContractActionWorkflow creates the contracts of one contract-actions request.
func ContractActionWorkflow(ctx workflow.Context, in flow.CreateContractsInput) (flow.ContractAction, error) {
	var a *activities.Contracts
	var out flow.ContractAction
	if err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), a.CreateContracts, in).Get(ctx, &out); err != nil {
		return out, err
	}
	if workflow.GetVersion(ctx, changeContractTerms, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return out, nil
	}
	ids := make([]string, len(out.Contracts))
	for i, c := range out.Contracts {
		ids[i] = c.ID
	}
	// A local activity: for most contracts it is one indexed read that
	// finds nothing due yet.
	var t *activities.Terms
	watch := flow.TermsSweepInput{TenantID: in.TenantID, ContractIDs: ids, TestClockID: in.TestClockID}
	for {
		var page flow.TermsPage
		if err := workflow.ExecuteLocalActivity(withWaitedOnStep(ctx), t.WatchTerms, watch).Get(ctx, &page); err != nil || !page.More {
			return out, err
		}
		watch.AfterRef = page.LastRef
	}
}
