package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
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
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.CreateContracts, in).Get(ctx, &out); err != nil {
		return out, err
	}
	if workflow.GetVersion(ctx, changeContractTerms, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return out, nil
	}
	today := domain.DateOf(workflow.Now(ctx))
	var due []string
	for _, c := range out.Contracts {
		if c.Renewal.Mode != domain.Evergreen && !today.Before(c.Renewal.NoticeDate(c.ExpirationDate)) {
			due = append(due, c.ID)
		}
	}
	if len(due) == 0 {
		return out, nil
	}
	var t *activities.Terms
	var page flow.TermsPage
	return out, workflow.ExecuteActivity(withTermStep(ctx), t.WatchTerms, flow.TermsSweepInput{TenantID: in.TenantID, ContractIDs: due}).Get(ctx, &page)
}
