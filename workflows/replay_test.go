package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// TestRecordedHistoriesReplay guards released workflow logic: a change that
// would break running workflows fails here. Changing logic on purpose needs
// workflow.GetVersion; record the new logic's histories with
// RECORD_HISTORY=1 go test ./api -run Replay (see historyVersion there).
func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		replayer := worker.NewWorkflowReplayer()
		RegisterReplayed(replayer)
		require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f), f)
	}
}

// RegisterReplayed registers every workflow whose histories are recorded in
// testdata. Exported for the workflows_test package.
func RegisterReplayed(r worker.WorkflowReplayer) {
	r.RegisterWorkflow(AmendmentWorkflow)
	r.RegisterWorkflow(ContractTermWorkflow)
	r.RegisterWorkflow(ContractActionWorkflow)
	r.RegisterWorkflow(WebhookDispatchWorkflow)
	r.RegisterWorkflow(WebhookDeliveryWorkflow)
	r.RegisterWorkflow(WebhookLaneWorkflow)
	r.RegisterWorkflow(BillingRunWorkflow)
	r.RegisterWorkflow(DunningWorkflow)
}
