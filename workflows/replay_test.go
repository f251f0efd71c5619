package workflows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
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

// TestAHistoryWithAVersionMarkerReplaysWhenItsInputSaysApplyOnOpen: during
// a rolling deploy an amendment can be started by an API that sets
// ApplyImmediately and run by a worker from before, which still asks the
// version and records its marker. Today's code, which asks no version for
// such an input, replays that history: the recorded immediate change with
// its input set so.
func TestAHistoryWithAVersionMarkerReplaysWhenItsInputSaysApplyOnOpen(t *testing.T) {
	raw, err := os.ReadFile("testdata/amendment_immediate.v2.json")
	require.NoError(t, err)
	var h historypb.History
	require.NoError(t, temporalproto.CustomJSONUnmarshalOptions{}.Unmarshal(raw, &h))
	input := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	var in map[string]any
	require.NoError(t, json.Unmarshal(input.Data, &in))
	require.Equal(t, false, in["ApplyImmediately"], "recorded before starters set it")
	in["ApplyImmediately"] = true
	input.Data, err = json.Marshal(in)
	require.NoError(t, err)

	replayer := worker.NewWorkflowReplayer()
	RegisterReplayed(replayer)
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, &h))
}
