package api_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// An advance recorded whose workflow was never started (the API stopped
// between the two, or Temporal was unreachable and the client did not
// repeat the request) left the clock advancing for good, holding its work
// of the tenant's budget. Reading the clock, as an integrator does until it
// is ready, now starts the advance's workflow, which carries it out.
func TestReadingAClockWhoseAdvanceWasNotStartedFinishesIt(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	contractID := clockContract(t, env, sb, clockID, nil)
	_, err := env.Store.StartAdvance(t.Context(), sb.ID, clockID, time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)

	var clock map[string]any
	require.Eventually(t, func() bool {
		clock = readClock(t, env, sb, clockID)
		return clock["status"] == "ready"
	}, time.Minute, 100*time.Millisecond, "the advance was not carried out")
	assert.Equal(t, "2027-03-01T12:00:00Z", clock["frozenTime"])
	periods := recurringPeriods(t, clockInvoices(t, env, sb, contractID))
	assert.Equal(t, []string{"2027-01-10", "2027-02-10"}, periods, "billed on the way, once each")
}

// A read starts an advance's workflow only if it was never started: one
// that ran and closed (failed, or terminated from the Temporal UI) is not
// run again at every poll of its clock, which shows the advance stopped
// (an integrator polling until ready would otherwise poll for good);
// repeating the advance's request runs it again.
func TestReadingAClockDoesNotRestartAnAdvanceThatClosed(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	clockID := createTestClock(t, env, sb, clockStart)
	env.StopWorker() // the run the read starts stays open, going nowhere
	clock, err := env.Store.StartAdvance(t.Context(), sb.ID, clockID, time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	workflowID := flow.TestClockAdvanceWorkflowID(sb.ID, clockID, clock.Advances)
	assert.Equal(t, "advancing", readClock(t, env, sb, clockID)["status"])
	status := func() enumspb.WorkflowExecutionStatus {
		desc, err := env.Temporal.DescribeWorkflowExecution(t.Context(), workflowID, "")
		require.NoError(t, err, "the read started the advance's workflow")
		return desc.GetWorkflowExecutionInfo().GetStatus()
	}
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status())
	require.NoError(t, env.Temporal.TerminateWorkflow(t.Context(), workflowID, "", "stopped by an operator"))

	stopped := readClock(t, env, sb, clockID)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, status(), "the read started no new run")
	assert.Equal(t, "stopped", stopped["status"])
	assert.Equal(t, "2027-03-01T12:00:00Z", stopped["targetTime"], "where it was going")
	assert.Equal(t, clockStart, stopped["frozenTime"], "where it stopped")
	assert.Contains(t, stopped["message"], "Repeat the advance (POST /api/test-clocks/"+clockID+"/advance with the same to)")
	list := env.Do("GET", "/api/test-clocks", sb.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
	listed := list.JSON(t)["items"].([]any)
	require.Len(t, listed, 1)
	assert.Equal(t, "stopped", listed[0].(map[string]any)["status"], "the list shows the clock as a read of it does")
	assert.Equal(t, stopped["message"], listed[0].(map[string]any)["message"])
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, status(), "the list started no new run")
	elsewhere := env.Do("POST", "/api/test-clocks/"+clockID+"/advance", sb.OperatorKey, map[string]any{"to": "2027-02-01T12:00:00Z"})
	assert.Equal(t, http.StatusConflict, elsewhere.Status, "%s", elsewhere.Body)
	assert.Contains(t, string(elsewhere.Body), "a read that shows it stopped: repeat that advance, or delete the clock")

	advance(t, env, sb, clockID, "2027-03-01T12:00:00Z")
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status(), "the repeated request did")
	again := readClock(t, env, sb, clockID)
	assert.Equal(t, "advancing", again["status"])
	assert.NotContains(t, again, "message")
}

// Reading an advancing clock while Temporal does not answer (overloaded,
// or its address dropping packets) answers the clock as it stands within
// a couple of seconds: the read tries to start the advance's workflow only
// that long, not for the Temporal client's own timeouts (5 s for a client
// yet to connect, as here, 10 s a call), so that a client polling the clock
// is not held by an outage. Nor is a list of more advancing clocks than it
// asks about at once: it asks about them all within the same couple of
// seconds.
func TestReadingAnAdvancingClockIsNotHeldByATemporalThatDoesNotAnswer(t *testing.T) {
	env := testkit.New(t)
	sb := env.NewSandboxTenant("SB")
	var clockID string
	for range 12 {
		clockID = createTestClock(t, env, sb, clockStart)
		_, err := env.Store.StartAdvance(t.Context(), sb.ID, clockID, time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
		require.NoError(t, err)
	}
	silent, err := net.Listen("tcp", "127.0.0.1:0") // takes connections, answers nothing
	require.NoError(t, err)
	t.Cleanup(func() { _ = silent.Close() })
	go func() { // its connections are kept open until the listener closes
		var conns []net.Conn
		for {
			conn, err := silent.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, conn)
		}
	}()

	began := time.Now()
	resp, body := withTemporalAt(t, env, silent.Addr().String(), "GET", "/api/test-clocks/"+clockID, sb.SubmitterKey, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), `"status":"advancing"`)
	assert.Less(t, time.Since(began), 4*time.Second, "the read waited for Temporal")

	began = time.Now()
	resp, body = withTemporalAt(t, env, silent.Addr().String(), "GET", "/api/test-clocks?pageSize=100", sb.SubmitterKey, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, 12, strings.Count(string(body), `"status":"advancing"`), "%s", body)
	assert.Less(t, time.Since(began), 4*time.Second, "the list waited for Temporal clock by clock")
}
