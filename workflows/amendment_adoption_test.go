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

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// An approval Postgres holds but its workflow lost: the workflow task that
// took it failed after the approval's step committed, and Temporal aborted
// the Update (see adoptCommittedDecision).

// approvedInPostgres is the amendment as Postgres holds it after an
// approval its workflow lost: accepted, with the approver's event.
func approvedInPostgres() domain.Amendment {
	return inPostgres(domain.StatusPending, domain.StatusReview, flow.EventApproved, approver, "ok")
}

// inPostgres is am-1 as Postgres holds it in status after a step its
// workflow lost: opened in was, then the step's event by its actor, with
// note unless it is empty.
func inPostgres(status, was, event string, by flow.Actor, note string) domain.Amendment {
	last := domain.AmendmentEvent{Status: event, ActorID: by.ID, Source: by.Source}
	if note != "" {
		last.Note = &note
	}
	return domain.Amendment{ID: "am-1", Status: status, QuoteVersion: 1, History: []domain.AmendmentEvent{
		{Status: domain.StatusPending, ActorID: "submitter-1"}, {Status: was, ActorID: "submitter-1"}, last,
	}}
}

// An approval Postgres holds but its workflow lost, and that nobody sends
// again, is taken by the workflow when it would expire the review: it
// reads the amendment first, finds it approved, takes that approval (its
// step answers with it) and applies the change, instead of expiring an
// amendment Postgres shows approved.
func TestALostApprovalIsTakenWhenTheReviewWouldExpire(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(2*day, 0), nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil).Once() // the escalation
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(approvedInPostgres(), nil).Once()
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool {
		return in.ActorID == approver.ID && in.Source == approver.Source && *in.Comment == "ok"
	})).Return(flow.Transitioned{Amendment: approvedInPostgres()}, nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool { return in.ActorID == approver.ID })).
		Return(applied(), nil).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	env.AssertNotCalled(t, "TransitionAmendment", mock.Anything, mock.Anything)
}

// It is taken at once when the workflow reads its amendment for another
// reason: the contract's timeline changed, and the workflow was told.
func TestALostApprovalIsTakenWhenTheWorkflowReadsItsAmendment(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(approvedInPostgres(), nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).Return(flow.Transitioned{Amendment: approvedInPostgres()}, nil).Once()
	var appliedAt time.Time
	start := env.Now()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Run(func(mock.Arguments) { appliedAt = env.Now() }).Return(applied(), nil).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	assert.Less(t, appliedAt.Sub(start), 2*time.Hour, "applied when told, not days later")
}

// An approver whose first approval was refused (the quote had changed) and
// whose second was lost, then taken from Postgres by the workflow, gets
// the amendment when they send it again, not the first one's refusal.
func TestAnApprovalSentAgainAfterTheWorkflowTookItIsAnswered(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 2*day), nil)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).
		Return(flow.Transitioned{}, temporal.NewNonRetryableApplicationError("amendment am-1 was re-priced since quote version 1", string(domain.KindConflict), nil)).Once()
	accepted := approvedInPostgres()
	accepted.Status = domain.StatusScheduled
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(accepted, nil).Once()
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).Return(flow.Transitioned{Amendment: accepted}, nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil).Once()
	stale := int64(1)
	var first, again error
	sent := func(err *error) *testsuite.TestUpdateCallback {
		return &testsuite.TestUpdateCallback{OnReject: func(e error) { *err = e }, OnAccept: func() {}, OnComplete: func(_ any, e error) { *err = e }}
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateApprove, "first", sent(&first), flow.Decision{Actor: approver, QuoteVersion: &stale})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateApprove, "again", sent(&again), flow.Decision{Actor: approver}) }, 2*time.Hour)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.Error(t, first, "the stale approval is refused")
	require.NoError(t, again, "the approval the workflow took is answered")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
}

// Another approver's rejection of an amendment Postgres holds approved is
// refused: only an approval can have been lost, and a rejection would end
// an amendment that was accepted.
func TestARejectionOfAnAcceptedAmendmentIsRefused(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).
		Return(domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 1}, nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.Anything).
		Return(flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 1}}, nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil).Once()
	var answer flow.Outcome
	var rejected, refused error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateReject, "reject", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, flow.Decision{Actor: flow.Actor{ID: "approver-2", Source: "USER"}})
	}, 90*time.Minute)
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver}, 2*time.Hour, &answer, &rejected)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.Error(t, refused, "the rejection is refused")
	require.NoError(t, rejected, "the approval sent again is taken")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	env.AssertNotCalled(t, "TransitionAmendment", mock.Anything, mock.Anything)
}

// A withdrawal Postgres holds but its workflow lost, as an approval can be
// (see adoptCommittedWithdrawal): a probe withdrawing ten amendments of one
// contract at once, beside immediate changes to it, saw one in ten or so
// answered 409 ("this one is WITHDRAWN") and its workflow left running
// until the amendment's date.

// withdrawer withdraws the amendments of these tests: its submitter.
var withdrawer = flow.Actor{ID: "submitter-1", Source: "USER"}

// withdrawnInPostgres is the amendment as Postgres holds it after a
// withdrawal its workflow lost.
func withdrawnInPostgres() domain.Amendment {
	return inPostgres(domain.StatusWithdrawn, domain.StatusScheduled, domain.StatusWithdrawn, withdrawer, "")
}

// A withdrawal of an amendment in review that its workflow lost, read when
// the review would expire, ends the review withdrawn, its step taken again
// (telling the amendments it re-priced), not expired.
func TestALostWithdrawalIsTakenWhenTheReviewWouldExpire(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(2*day, 0), nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil).Once() // the escalation
	withdrawn := inPostgres(domain.StatusWithdrawn, domain.StatusReview, domain.StatusWithdrawn, withdrawer, "")
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(withdrawn, nil).Once()
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusWithdrawn && in.ActorID == withdrawer.ID
	})).Return(flow.Transitioned{Amendment: withdrawn, Rebased: true}, nil).Once()
	env.OnActivity(acts.NotifyTimeline, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	env.AssertExpectations(t)
}

// A workflow that reads its amendment withdrawn (told that the contract's
// timeline changed) takes the withdrawal and ends, rather than waiting for
// the amendment's date; the withdrawal's step, taken again, tells the
// workflows of the amendments it re-priced, which the lost task did not.
func TestALostWithdrawalEndsTheWorkflowWhenItReadsItsAmendment(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, 30*day), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(withdrawnInPostgres(), nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	var withdrawnAt time.Time
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusWithdrawn && in.ActorID == withdrawer.ID && in.Source == withdrawer.Source
	})).Run(func(mock.Arguments) { withdrawnAt = env.Now() }).Return(flow.Transitioned{Amendment: withdrawnInPostgres(), Rebased: true}, nil).Once()
	env.OnActivity(acts.NotifyTimeline, mock.Anything, mock.Anything).Return(nil).Once()
	start := env.Now()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	assert.Less(t, withdrawnAt.Sub(start), 2*time.Hour, "ended when it read the amendment, not on its date")
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
	env.AssertExpectations(t)
}

// The withdrawer's Update, which Temporal aborted and the client sent
// again, reaching the workflow after it read the amendment withdrawn, is
// a retry: it is answered with the amendment withdrawn, not refused.
func TestAWithdrawalSentAgainAfterTheWorkflowReadItIsAnswered(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, 30*day), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(withdrawnInPostgres(), nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	// The step taken again fails for a while (Postgres away), so that the
	// Update arrives while the workflow has read the amendment and not
	// yet ended.
	start := env.Now()
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.TransitionInput) (flow.Transitioned, error) {
		if env.Now().Sub(start) < time.Hour+10*time.Minute {
			return flow.Transitioned{}, errors.New("connection reset by peer")
		}
		return flow.Transitioned{Amendment: withdrawnInPostgres()}, nil
	})
	var answer flow.Outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "withdraw-again", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("withdrawal sent again refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); answer = v.(flow.Outcome) },
		}, withdrawer)
	}, time.Hour+5*time.Minute)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	require.NotNil(t, answer.Amendment, "the withdrawal sent again is answered")
	assert.Equal(t, domain.StatusWithdrawn, answer.Amendment.Status)
}

// A rejection Postgres holds but its workflow lost, as an approval or a
// withdrawal can be (see adoptCommittedDecision): the workflow read its
// amendment REJECTED, refused the rejection sent again with 409 ("this one
// is REJECTED") and waited until the review would expire.

// rejectedInPostgres is the amendment as Postgres holds it after a
// rejection its workflow lost.
func rejectedInPostgres() domain.Amendment {
	return inPostgres(domain.StatusRejected, domain.StatusReview, domain.StatusRejected, approver, "too many seats")
}

// A workflow that reads its amendment rejected (told that the contract's
// timeline changed) takes the rejection as its approver's and ends, rather
// than escalating the review and waiting for it to expire; the rejection's
// step, taken again, tells the workflows of the amendments it re-priced.
func TestALostRejectionEndsTheWorkflowWhenItReadsItsAmendment(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(rejectedInPostgres(), nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	var rejectedAt time.Time
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusRejected && in.ActorID == approver.ID && in.Source == approver.Source && *in.Note == "too many seats"
	})).Run(func(mock.Arguments) { rejectedAt = env.Now() }).Return(flow.Transitioned{Amendment: rejectedInPostgres(), Rebased: true}, nil).Once()
	env.OnActivity(acts.NotifyTimeline, mock.Anything, mock.Anything).Return(nil).Once()
	start := env.Now()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusRejected, outcome(t, env).Amendment.Status)
	assert.Less(t, rejectedAt.Sub(start), 2*time.Hour, "ended when it read the amendment, not when the review expired")
	env.AssertNotCalled(t, "RecordAmendmentEvent", mock.Anything, mock.Anything) // no escalation
	env.AssertNotCalled(t, "ApproveAmendment", mock.Anything, mock.Anything)
}

// The approver's rejection, which Temporal aborted and the client sent
// again, reaching the workflow after it read the amendment rejected, is a
// retry: it is answered with the amendment rejected, not refused. Another
// approver's rejection is still refused.
func TestARejectionSentAgainAfterTheWorkflowReadItIsAnswered(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).Return(rejectedInPostgres(), nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	// The step taken again fails for a while (Postgres away), so that the
	// Updates arrive while the workflow has read the amendment and not yet
	// ended.
	start := env.Now()
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.TransitionInput) (flow.Transitioned, error) {
		if env.Now().Sub(start) < time.Hour+10*time.Minute {
			return flow.Transitioned{}, errors.New("connection reset by peer")
		}
		return flow.Transitioned{Amendment: rejectedInPostgres()}, nil
	})
	var answer flow.Outcome
	var other error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateReject, "reject-again", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejection sent again refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); answer = v.(flow.Outcome) },
		}, flow.Decision{Actor: approver, Comment: "too many seats"})
	}, time.Hour+5*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateReject, "another", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { other = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, flow.Decision{Actor: flow.Actor{ID: "approver-2", Source: "USER"}})
	}, time.Hour+6*time.Minute)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusRejected, outcome(t, env).Amendment.Status)
	require.NotNil(t, answer.Amendment, "the rejection sent again is answered")
	assert.Equal(t, domain.StatusRejected, answer.Amendment.Status)
	require.Error(t, other, "another approver's rejection is refused")
}
