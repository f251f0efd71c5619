package workflows

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/metrics"
)

// amendmentsCounted runs an amendment workflow and returns
// contractd_amendments_total by "action/outcome".
func amendmentsCounted(t *testing.T, action domain.Action, mockActivities func(*testsuite.TestWorkflowEnvironment)) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	env := NewTestEnv(t, func(s *testsuite.WorkflowTestSuite) { s.SetMetricsHandler(metrics.NewTemporalHandler(reg)) })
	env.RegisterWorkflow(AmendmentWorkflow)
	mockActivities(env)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", Change: domain.Change{Action: action}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	families, err := reg.Gather()
	require.NoError(t, err)
	counted := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "contractd_amendments_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counted[labels["action"]+"/"+labels["outcome"]] += m.GetCounter().GetValue()
		}
	}
	return counted
}

func TestAmendmentIsCountedOnceWhenItEnds(t *testing.T) {
	counted := amendmentsCounted(t, domain.QuantityChange, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, time.Hour), nil)
		env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil)
	})
	require.Equal(t, map[string]float64{"QUANTITY_CHANGE/APPLIED": 1}, counted, "SCHEDULED is not an outcome")
}

func TestRejectedAmendmentIsCountedAsRejected(t *testing.T) {
	counted := amendmentsCounted(t, domain.Cancellation, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(48*time.Hour, 0), nil)
		env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(moved(domain.StatusRejected), nil)
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(flow.UpdateReject, "reject-1", &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("reject refused: %v", err) },
			}, flow.Decision{Actor: flow.Actor{ID: "approver"}})
		}, time.Minute)
	})
	require.Equal(t, map[string]float64{"CANCELLATION/REJECTED": 1}, counted)
}
