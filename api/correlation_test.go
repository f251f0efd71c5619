package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A change can be followed from the HTTP request to its workflow and its
// activities: the request id and the caller's trace-id travel in Temporal
// headers, on the workflow's start and on every activity it schedules.
func TestRequestAndTraceIDsTravelIntoTheWorkflow(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	resp := change(env, env.A.SubmitterKey, seats(ct["id"].(string), 7), "trace-id", "trace-abc")
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requestID := resp.Header.Get("X-Request-Id")
	require.NotEmpty(t, requestID)
	assert.Equal(t, "trace-abc", resp.Header.Get("trace-id"))

	id := resp.JSON(t)["quote"].(map[string]any)["id"].(string)
	want := correlation.IDs{RequestID: requestID, TraceID: "trace-abc"}
	h := history(t, env, flow.AmendmentWorkflowID(id))
	start := h.Events[0]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, start.GetEventType())
	header := start.GetWorkflowExecutionStartedEventAttributes().GetHeader().GetFields()
	require.Contains(t, header, "contractd-correlation")
	var got correlation.IDs
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(header["contractd-correlation"], &got))
	assert.Equal(t, want, got)

	// The activities that opened and applied it log with the same ids.
	for _, msg := range []string{"amendment opened", "amendment applied"} {
		var found bool
		for _, line := range testkit.WorkerLogLines(id) {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec))
			if rec["msg"] == msg {
				found = true
				assert.Equal(t, requestID, rec["requestId"], msg)
				assert.Equal(t, "trace-abc", rec["traceId"], msg)
			}
		}
		assert.True(t, found, "no %q log record for amendment %s", msg, id)
	}
}
