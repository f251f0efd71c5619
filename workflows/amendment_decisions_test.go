package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// A decision that comes while another approver's is being acted on is
// refused with why: not with the status, which still reads REVIEW.
func TestADecisionWhileAnotherIsActedOnIsRefusedSayingSo(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	// The approval's step takes a minute: the rejection comes meanwhile.
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).After(time.Minute).
		Return(flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 1}}, nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil).Once()
	var answer flow.Outcome
	var rejected, refused error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver}, time.Minute, &answer, &rejected)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateReject, "reject", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, flow.Decision{Actor: flow.Actor{ID: "approver-2", Source: "USER"}})
	}, 90*time.Second)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.NoError(t, rejected)
	require.Error(t, refused)
	assert.Contains(t, refused.Error(), "another decision on the amendment is being acted on")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
}
