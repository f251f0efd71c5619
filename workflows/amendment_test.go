package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

var acts *activities.Amendments

func amendmentEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := NewTestEnv(t)
	env.RegisterWorkflow(AmendmentWorkflow)
	return env
}

func opened(status string, wait time.Duration) flow.OpenAmendmentResult {
	return flow.OpenAmendmentResult{
		Amendment: domain.Amendment{ID: "am-1", Status: status},
		Contract:  flow.ContractSummary{ID: "ct-1", Version: 1},
		WaitFor:   wait,
	}
}

func applied() flow.Applied {
	return flow.Applied{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusApplied}, Contract: flow.ContractSummary{ID: "ct-1", Version: 2}}
}

// moved is the amendment after a change of status that re-priced no other.
func moved(status string) flow.Transitioned {
	return flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: status}}
}

func outcome(t *testing.T, env *testsuite.TestWorkflowEnvironment) flow.Outcome {
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out flow.Outcome
	require.NoError(t, env.GetWorkflowResult(&out))
	return out
}

func TestScheduledAmendmentAppliesWhenItsDateComes(t *testing.T) {
	env := amendmentEnv(t)
	wait := 36 * time.Hour
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, wait), nil)
	var appliedAt time.Time
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool {
		return in.ActorID == systemActor.ID && in.Source == systemActor.Source
	})).Run(func(mock.Arguments) { appliedAt = env.Now() }).Return(applied(), nil)
	start := env.Now()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	out := outcome(t, env)
	assert.Equal(t, domain.StatusApplied, out.Amendment.Status)
	assert.GreaterOrEqual(t, appliedAt.Sub(start), wait, "applied before its effective date")
}

func TestScheduledAmendmentCanBeWithdrawnWhileWaiting(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, 30*24*time.Hour), nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusWithdrawn && in.ActorID == "alice"
	})).Return(moved(domain.StatusWithdrawn), nil)
	var withdrawn flow.Outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "w-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("withdraw rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); withdrawn = v.(flow.Outcome) },
		}, flow.Actor{ID: "alice", Source: "USER"})
	}, 24*time.Hour)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	assert.Equal(t, domain.StatusWithdrawn, withdrawn.Amendment.Status)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

func TestImmediateAmendmentRefusesWithdrawal(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusPending, 0), nil)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil)
	// It arrives before the amendment is opened, so it is accepted and then
	// refused by its handler once the workflow knows what it withdraws.
	var refused error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "w-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { refused = err },
		}, flow.Actor{ID: "alice"})
	}, 0)
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(refused, &appErr), "withdrawal of an immediate change must be refused, got %v", refused)
	assert.Equal(t, string(domain.KindConflict), appErr.Type())
}

func TestTransientApplyFailuresAreRetried(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusPending, 0), nil)
	calls := 0
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.ApplyAmendmentInput) (flow.Applied, error) {
		calls++
		if calls < 3 {
			return flow.Applied{}, errors.New("connection reset by peer")
		}
		return applied(), nil
	})
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	assert.Equal(t, 3, calls)
}

// A step that keeps failing for a reason that passes (an amendment before
// it on the timeline not applied yet, Postgres down) is retried for as long
// as it takes: the local activity's retries are not bounded by its 30 s
// attempt timeout, which the SDK otherwise takes as their total. Here the
// apply fails for two minutes of workflow time, retried every 20 s.
func TestAStepFailingForMinutesIsRetriedUntilItPasses(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusPending, 0), nil)
	start := env.Now()
	calls := 0
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.ApplyAmendmentInput) (flow.Applied, error) {
		calls++
		if env.Now().Sub(start) < 2*time.Minute {
			return flow.Applied{}, temporal.NewApplicationErrorWithOptions("an amendment before it on the contract's timeline has not applied yet",
				"wrapError", temporal.ApplicationErrorOptions{NextRetryDelay: 20 * time.Second})
		}
		return applied(), nil
	})
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	assert.Greater(t, calls, 6, "retried through the two minutes")
}

func TestRefusedAmendmentEndsWithTheReason(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(flow.OpenAmendmentResult{},
		temporal.NewNonRetryableApplicationError("contract CT-1 is cancelled by scheduled amendment am-0 on or before 2026-06-01; withdraw it first", string(domain.KindConflict), nil))
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})
	out := outcome(t, env)
	assert.Nil(t, out.Amendment)
	assert.Equal(t, domain.KindConflict, out.ErrorKind)
	assert.Contains(t, out.ErrorMessage, "am-0")
}

func TestApplyThatCanNoLongerHappenIsRecordedFailed(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, time.Hour), nil)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(flow.Applied{},
		temporal.NewNonRetryableApplicationError("contract changed", string(domain.KindConflict), nil))
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusFailed
	})).Return(moved(domain.StatusFailed), nil)
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})
	out := outcome(t, env)
	assert.Equal(t, domain.StatusFailed, out.Amendment.Status)
	assert.Equal(t, "contract changed", out.ErrorMessage)
}

// stillInReview answers the workflow's look at its amendment before its
// review expires: still in REVIEW, nobody approved it.
func stillInReview(env *testsuite.TestWorkflowEnvironment) *testsuite.MockCallWrapper {
	return env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(domain.Amendment{ID: "am-1", Status: domain.StatusReview}, nil)
}

func held(expiry time.Duration, wait time.Duration) flow.OpenAmendmentResult {
	r := opened(domain.StatusReview, wait)
	r.ReviewExpiry = expiry
	return r
}

func decide(t *testing.T, env *testsuite.TestWorkflowEnvironment, name string, d flow.Decision, after time.Duration, result *flow.Outcome, rejected *error) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, name+"@"+after.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) { *rejected = err },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				require.NoError(t, err)
				*result = v.(flow.Outcome)
			},
		}, d)
	}, after)
}

var approver = flow.Actor{ID: "approver-1", Source: "USER"}

func TestApprovedImmediateChangeAppliesAtOnce(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*24*time.Hour, 0), nil)
	// The approval accepts the amendment onto the timeline in one step; due
	// now, it is accepted PENDING.
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool {
		return in.ActorID == approver.ID && *in.Comment == "fine" && in.QuoteVersion == nil
	})).Return(moved(domain.StatusPending), nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool {
		return in.ActorID == approver.ID
	})).Return(applied(), nil)
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver, Comment: "fine"}, time.Hour, &answer, &rejected)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.NoError(t, rejected)
	assert.Equal(t, domain.StatusApplied, answer.Amendment.Status, "the approver's answer shows the applied change")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
}

func TestApprovedFutureChangeIsScheduledThenApplied(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*24*time.Hour, 10*24*time.Hour), nil)
	// Approving schedules it: no separate transition to SCHEDULED.
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool {
		return in.ActorID == approver.ID && in.Comment == nil
	})).Return(moved(domain.StatusScheduled), nil).Once()
	var appliedAt time.Time
	start := env.Now()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Run(func(mock.Arguments) { appliedAt = env.Now() }).Return(applied(), nil)
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver}, 2*24*time.Hour, &answer, &rejected)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.NoError(t, rejected)
	assert.Equal(t, domain.StatusScheduled, answer.Amendment.Status)
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	// Applied on its effective date, counted from when it was submitted, not approved.
	assert.InDelta(t, (10 * 24 * time.Hour).Seconds(), appliedAt.Sub(start).Seconds(), 60)
	env.AssertNotCalled(t, "TransitionAmendment", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "RecordAmendmentEvent", mock.Anything, mock.Anything)
}

func TestRejectedChangeEndsRejected(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*24*time.Hour, 0), nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusRejected && in.ActorID == approver.ID && *in.Note == "too expensive"
	})).Return(moved(domain.StatusRejected), nil)
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateReject, flow.Decision{Actor: approver, Comment: "too expensive"}, time.Minute, &answer, &rejected)
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})
	require.NoError(t, rejected)
	assert.Equal(t, domain.StatusRejected, answer.Amendment.Status)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

func TestSubmitterCannotDecideTheirOwnChange(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(time.Hour, 0), nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(moved(domain.StatusExpired), nil)
	stillInReview(env)
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: flow.Actor{ID: "submitter-1"}}, time.Minute, &answer, &rejected)
	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, rejected, &appErr)
	assert.Equal(t, string(domain.KindForbidden), appErr.Type())
}

func TestUndecidedReviewEscalatesThenExpires(t *testing.T) {
	env := amendmentEnv(t)
	expiry := 7 * 24 * time.Hour
	start := env.Now()
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(expiry, 0), nil)
	var escalatedAt, expiredAt time.Time
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.MatchedBy(func(in flow.EventInput) bool {
		return in.Event == flow.EventEscalated
	})).Run(func(mock.Arguments) { escalatedAt = env.Now() }).Return(nil).Once()
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusExpired
	})).Run(func(mock.Arguments) { expiredAt = env.Now() }).Return(moved(domain.StatusExpired), nil)
	stillInReview(env).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusExpired, outcome(t, env).Amendment.Status)
	assert.InDelta(t, (expiry / 2).Seconds(), escalatedAt.Sub(start).Seconds(), 60)
	assert.InDelta(t, expiry.Seconds(), expiredAt.Sub(start).Seconds(), 60)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

func TestImmediateChangeAppliedWhenOpenedNeedsNoSecondStep(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.MatchedBy(func(in flow.OpenAmendmentInput) bool {
		return in.ApplyImmediately
	})).Return(opened(domain.StatusApplied, 0), nil)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

func TestRetriedApprovalWaitsForTheSameOutcome(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*24*time.Hour, 0), nil)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).Return(moved(domain.StatusPending), nil).Once()
	// The apply is slow, so the retry arrives while the first approval is being acted on.
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).After(time.Minute).Return(applied(), nil).Once()
	var first, retry, other flow.Outcome
	var firstErr, retryErr, otherErr error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver, Comment: "fine"}, time.Hour, &first, &firstErr)
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver, Comment: "fine"}, time.Hour+time.Second, &retry, &retryErr)
	decide(t, env, flow.UpdateReject, flow.Decision{Actor: approver}, time.Hour+2*time.Second, &other, &otherErr)
	var withdrawErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "late-withdraw", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { withdrawErr = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { withdrawErr = err },
		}, flow.Actor{ID: "submitter-1"})
	}, time.Hour+3*time.Second)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.NoError(t, firstErr)
	require.NoError(t, retryErr, "the same approver retrying gets the outcome")
	assert.Equal(t, domain.StatusApplied, retry.Amendment.Status)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, otherErr, &appErr, "a different decision after the first is refused")
	assert.Equal(t, string(domain.KindConflict), appErr.Type())
	require.ErrorAs(t, withdrawErr, &appErr, "too late to withdraw once approved")
	assert.Equal(t, string(domain.KindConflict), appErr.Type())
}

// A workflow whose starter said its worker applies on open passes that on to
// OpenAmendment and asks no version. One started without it asks, and a
// history from before apply-on-open (DefaultVersion) applies in a step of
// its own.
func TestApplyOnOpenComesFromTheInputOrElseTheVersion(t *testing.T) {
	for _, said := range []bool{true, false} {
		env := amendmentEnv(t)
		version := env.OnGetVersion(changeApplyOnOpen, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		if said {
			version.Never()
		}
		var got *bool
		env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
			applies := args.Get(1).(flow.OpenAmendmentInput).ApplyImmediately
			got = &applies
		}).Return(opened(domain.StatusApplied, 0), nil)

		env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ApplyImmediately: said})

		assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
		require.NotNil(t, got, "OpenAmendment ran")
		assert.Equal(t, said, *got, "input said %v", said)
	}
}
