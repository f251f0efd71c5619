package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// A worker whose workflows cannot check Updates refuses them all: the test
// suite sends them unsigned, as the Temporal UI would.
func TestUnsignedDecisionIsRefusedByTheValidator(t *testing.T) {
	env := amendmentEnv(t)
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewUpdateKeyInterceptor(flow.UpdateKey("the workers' key of thirty-two characters"))}})
	held := opened(domain.StatusReview, 0)
	held.ReviewExpiry = time.Hour
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held, nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(domain.Amendment{ID: "am-1", Status: domain.StatusExpired}, nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
	stillInReview(env)
	var refusal error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateApprove, "forged", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { refusal = err },
			OnAccept:   func() { t.Error("an unsigned approval was accepted") },
			OnComplete: func(any, error) {},
		}, flow.Decision{Actor: flow.Actor{ID: "made-up"}})
	}, time.Minute)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.Error(t, refusal)
	assert.Contains(t, refusal.Error(), "only the API may send approve")
}
