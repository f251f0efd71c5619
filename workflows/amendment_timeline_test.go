package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

const day = 24 * time.Hour

// contractTimeline runs one AmendmentWorkflow per input at once, as the
// pending amendments of one contract run, each under its real workflow id,
// and returns their outcomes in input order.
func contractTimeline(ctx workflow.Context, ins []flow.OpenAmendmentInput) ([]flow.Outcome, error) {
	futures := make([]workflow.ChildWorkflowFuture, len(ins))
	for i, in := range ins {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: flow.AmendmentWorkflowID(in.AmendmentID)})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, AmendmentWorkflow, in)
	}
	outs := make([]flow.Outcome, len(ins))
	for i, f := range futures {
		if err := f.Get(ctx, &outs[i]); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

func timelineEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := amendmentEnv(t)
	env.RegisterWorkflow(contractTimeline)
	return env
}

func on(id string) flow.OpenAmendmentInput {
	return flow.OpenAmendmentInput{TenantID: "t-1", AmendmentID: id, ContractID: "ct-1", ActorID: "submitter-1"}
}

// scheduledAt opens amendment id SCHEDULED, due after wait.
func scheduledAt(env *testsuite.TestWorkflowEnvironment, id string, wait time.Duration) {
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.MatchedBy(func(in flow.OpenAmendmentInput) bool { return in.AmendmentID == id })).
		Return(flow.OpenAmendmentResult{Amendment: domain.Amendment{ID: id, Status: domain.StatusScheduled, QuoteVersion: 1}, WaitFor: wait}, nil)
}

// applyLog records which amendments were applied, in order, and when.
type applyLog struct {
	mu    sync.Mutex
	order []string
	at    map[string]time.Time
	calls map[string]int
}

func (l *applyLog) record(env *testsuite.TestWorkflowEnvironment, id string, applied bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at, l.calls = map[string]time.Time{}, map[string]int{}
	}
	l.calls[id]++
	if applied {
		l.order, l.at[id] = append(l.order, id), env.Now()
	}
}

func (l *applyLog) applied(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.at[id]
	return ok
}

func (l *applyLog) attempts(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[id]
}

// applyEach applies every amendment when asked, unless refuse says it is not
// its turn yet (a retryable error, as the store's).
func applyEach(env *testsuite.TestWorkflowEnvironment, log *applyLog, refuse func(id string) bool) {
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.ApplyAmendmentInput) (flow.Applied, error) {
		if refuse != nil && refuse(in.AmendmentID) {
			log.record(env, in.AmendmentID, false)
			return flow.Applied{}, errors.New("amendment " + in.AmendmentID + " waits for an earlier accepted amendment of its contract")
		}
		log.record(env, in.AmendmentID, true)
		return flow.Applied{Amendment: domain.Amendment{ID: in.AmendmentID, Status: domain.StatusApplied}}, nil
	})
}

func timelineOutcomes(t *testing.T, env *testsuite.TestWorkflowEnvironment) []flow.Outcome {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var outs []flow.Outcome
	require.NoError(t, env.GetWorkflowResult(&outs))
	return outs
}

func TestThreeStepRampAppliesEachStepOnItsDate(t *testing.T) {
	env := timelineEnv(t)
	waits := map[string]time.Duration{"ramp-1": 10 * day, "ramp-2": 40 * day, "ramp-3": 100 * day}
	for id, wait := range waits {
		scheduledAt(env, id, wait)
	}
	var log applyLog
	applyEach(env, &log, nil)
	start := env.Now()

	// Opened out of order: each waits for its own date.
	env.ExecuteWorkflow(contractTimeline, []flow.OpenAmendmentInput{on("ramp-3"), on("ramp-1"), on("ramp-2")})

	for _, out := range timelineOutcomes(t, env) {
		assert.Equal(t, domain.StatusApplied, out.Amendment.Status, out.Amendment.ID)
	}
	assert.Equal(t, []string{"ramp-1", "ramp-2", "ramp-3"}, log.order)
	for id, wait := range waits {
		assert.InDelta(t, wait.Seconds(), log.at[id].Sub(start).Seconds(), 60, "%s applied on its date", id)
	}
	env.AssertNotCalled(t, "NotifyTimeline", mock.Anything, mock.Anything)
}

func TestWithdrawingTheMiddleRepricesWhatFollows(t *testing.T) {
	env := timelineEnv(t)
	scheduledAt(env, "ramp-1", 10*day)
	scheduledAt(env, "ramp-2", 40*day)
	scheduledAt(env, "ramp-3", 100*day)
	var log applyLog
	applyEach(env, &log, nil)
	// Withdrawing ramp-2 re-priced ramp-3: the workflow that withdrew it
	// tells the contract's timeline, which signals ramp-3's workflow.
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.AmendmentID == "ramp-2" && in.To == domain.StatusWithdrawn
	})).Return(flow.Transitioned{Amendment: domain.Amendment{ID: "ramp-2", Status: domain.StatusWithdrawn}, Rebased: true}, nil).Once()
	env.OnActivity(acts.NotifyTimeline, mock.Anything, flow.TimelineInput{TenantID: "t-1", ContractID: "ct-1"}).Return(func(context.Context, flow.TimelineInput) error {
		return env.UpdateWorkflowByID(flow.AmendmentWorkflowID("ramp-3"), flow.UpdateTimelineChanged, "timeline-3", timelineNoticed(t))
	}).Once()
	repriced := domain.Amendment{ID: "ramp-3", Status: domain.StatusScheduled, QuoteVersion: 2, Quote: domain.Quote{RecurringAfter: 4200}}
	var syncedAt time.Time
	env.OnActivity(acts.SyncAmendment, mock.Anything, flow.AmendmentRef{TenantID: "t-1", AmendmentID: "ramp-3"}).
		Run(func(mock.Arguments) { syncedAt = env.Now() }).Return(repriced, nil).Once()
	start := env.Now()

	var withdrawn flow.Outcome
	env.RegisterDelayedCallback(func() {
		require.NoError(t, env.UpdateWorkflowByID(flow.AmendmentWorkflowID("ramp-2"), flow.UpdateWithdraw, "withdraw-2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("withdrawal refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); withdrawn = v.(flow.Outcome) },
		}, flow.Actor{ID: "alice", Source: "USER"}))
	}, 20*day)
	// Before its date, ramp-3's workflow answers with the quote it re-read.
	var seen flow.Outcome
	env.RegisterDelayedCallback(func() {
		require.NoError(t, env.UpdateWorkflowByID(flow.AmendmentWorkflowID("ramp-3"), flow.UpdateOutcome, "outcome-3", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("outcome refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); seen = v.(flow.Outcome) },
		}, ""))
	}, 50*day)

	env.ExecuteWorkflow(contractTimeline, []flow.OpenAmendmentInput{on("ramp-1"), on("ramp-2"), on("ramp-3")})

	outs := timelineOutcomes(t, env)
	require.NotNil(t, withdrawn.Amendment, "the withdrawal was answered")
	assert.Equal(t, domain.StatusWithdrawn, withdrawn.Amendment.Status)
	assert.Equal(t, []string{domain.StatusApplied, domain.StatusWithdrawn, domain.StatusApplied},
		[]string{outs[0].Amendment.Status, outs[1].Amendment.Status, outs[2].Amendment.Status})
	assert.Equal(t, []string{"ramp-1", "ramp-3"}, log.order)
	assert.InDelta(t, (20 * day).Seconds(), syncedAt.Sub(start).Seconds(), 60, "ramp-3 re-read its amendment when told")
	require.NotNil(t, seen.Amendment)
	assert.Equal(t, int64(2), seen.Amendment.QuoteVersion, "ramp-3 holds its new quote")
	assert.Equal(t, int64(4200), seen.Amendment.Quote.RecurringAfter)
	assert.Equal(t, domain.StatusScheduled, seen.Amendment.Status)
	assert.InDelta(t, (100 * day).Seconds(), log.at["ramp-3"].Sub(start).Seconds(), 60, "re-pricing keeps its date")
}

func TestEarlierChangeInvalidatingALaterOneFailsIt(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, 30*day), nil)
	note := "no longer holds after an earlier change: payload.offerings[0].offeringId \"addon\" is not on contract CT-1"
	env.OnActivity(acts.SyncAmendment, mock.Anything, flow.AmendmentRef{AmendmentID: "am-1"}).Return(domain.Amendment{
		ID: "am-1", Status: domain.StatusFailed, History: []domain.AmendmentEvent{{Status: domain.StatusScheduled}, {Status: domain.StatusFailed, Note: &note}},
	}, nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, 5*day)
	start := env.Now()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	out := outcome(t, env)
	assert.Equal(t, domain.StatusFailed, out.Amendment.Status)
	assert.Equal(t, domain.KindConflict, out.ErrorKind)
	assert.Equal(t, note, out.ErrorMessage, "the outcome says why, as its history does")
	assert.Less(t, env.Now().Sub(start), 30*day, "it ends when told, not on its date")
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "TransitionAmendment", mock.Anything, mock.Anything)
}

func TestApprovalOfARepricedQuote(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	// An earlier change re-priced the held amendment: its workflow re-reads it.
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).
		Return(domain.Amendment{ID: "am-1", Status: domain.StatusReview, QuoteVersion: 2}, nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, 30*time.Minute)
	one, two := int64(1), int64(2)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool {
		return in.QuoteVersion != nil && *in.QuoteVersion == one
	})).Return(flow.Transitioned{}, temporal.NewNonRetryableApplicationError(
		"amendment am-1 was re-priced since quote version 1; its quote is now version 2", string(domain.KindConflict), nil)).Once()
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool {
		return in.QuoteVersion != nil && *in.QuoteVersion == two && in.ActorID == approver.ID
	})).Return(flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 2}, Rebased: true}, nil).Once()
	// Accepting it re-priced what follows: the timeline is told.
	env.OnActivity(acts.NotifyTimeline, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool {
		return in.ActorID == approver.ID
	})).Return(applied(), nil).Once()

	var stale error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateApprove, "approve-stale", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("stale approval rejected by the validator: %v", err) }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { stale = err },
		}, flow.Decision{Actor: approver, QuoteVersion: &one})
	}, time.Hour)
	var between flow.Outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateOutcome, "outcome", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("outcome refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); between = v.(flow.Outcome) },
		}, "")
	}, 2*time.Hour)
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver, QuoteVersion: &two}, 3*time.Hour, &answer, &rejected)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, stale, &appErr, "an approval of quote version 1 is refused")
	assert.Equal(t, string(domain.KindConflict), appErr.Type())
	assert.Contains(t, appErr.Error(), "version 2")
	require.NotNil(t, between.Amendment)
	assert.Equal(t, domain.StatusReview, between.Amendment.Status, "a refused approval leaves it in REVIEW")
	assert.Equal(t, int64(2), between.Amendment.QuoteVersion)
	require.NoError(t, rejected)
	require.NotNil(t, answer.Amendment, "the approval was answered")
	assert.Equal(t, domain.StatusApplied, answer.Amendment.Status, "approving the current quote applies the due change")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
}

func TestSameDateChangesApplyInTheOrderAccepted(t *testing.T) {
	env := timelineEnv(t)
	scheduledAt(env, "first", 10*day)
	scheduledAt(env, "second", 10*day)
	var log applyLog
	// The store refuses "second" (retryably) until "first", accepted before
	// it on the same date, is applied; its first attempt always comes too early.
	applyEach(env, &log, func(id string) bool {
		return id == "second" && (log.attempts("second") == 0 || !log.applied("first"))
	})

	env.ExecuteWorkflow(contractTimeline, []flow.OpenAmendmentInput{on("second"), on("first")})

	for _, out := range timelineOutcomes(t, env) {
		assert.Equal(t, domain.StatusApplied, out.Amendment.Status, out.Amendment.ID)
	}
	assert.Equal(t, []string{"first", "second"}, log.order)
	assert.GreaterOrEqual(t, log.attempts("second"), 2, "the refused apply was retried")
}

func TestStepsThatRebaseTellTheTimeline(t *testing.T) {
	for name, rebased := range map[string]bool{"rebased": true, "nothing re-priced": false} {
		t.Run(name, func(t *testing.T) {
			env := amendmentEnv(t)
			r := opened(domain.StatusScheduled, day)
			r.Rebased = rebased
			env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(r, nil)
			a := applied()
			a.Rebased = rebased
			env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(a, nil)
			calls := 0
			if rebased {
				env.OnActivity(acts.NotifyTimeline, mock.Anything, flow.TimelineInput{TenantID: "t-1", ContractID: "ct-1"}).
					Run(func(mock.Arguments) { calls++ }).Return(nil).Twice()
			}

			env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{TenantID: "t-1", ContractID: "ct-1", AmendmentID: "am-1"})

			assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
			if rebased {
				assert.Equal(t, 2, calls, "once after opening, once after applying")
			} else {
				env.AssertNotCalled(t, "NotifyTimeline", mock.Anything, mock.Anything)
			}
		})
	}
}

// timelineNoticed expects the timeline-changed Update, as NotifyTimeline
// sends it, to be taken.
func timelineNoticed(t *testing.T) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnReject: func(err error) { t.Errorf("timeline notice refused: %v", err) }, OnAccept: func() {},
		OnComplete: func(_ any, err error) { assert.NoError(t, err) },
	}
}

// A workflow waiting for a decision whose amendment a re-pricing read as
// already accepted (Postgres holds an approval this workflow lost: the
// workflow task that took it failed after the approval's step committed)
// still takes the approval when the API sends it again, and applies the
// change; the store's step returns the approval as it stands.
func TestAWorkflowThatLostItsApprovalTakesItAgain(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held(7*day, 0), nil)
	env.OnActivity(acts.SyncAmendment, mock.Anything, mock.Anything).
		Return(domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 1}, nil).Once()
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour)
	env.OnActivity(acts.ApproveAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApproveInput) bool { return in.ActorID == approver.ID })).
		Return(flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusPending, QuoteVersion: 1}}, nil).Once()
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(applied(), nil).Once()
	var answer flow.Outcome
	var rejected error
	decide(t, env, flow.UpdateApprove, flow.Decision{Actor: approver}, 2*time.Hour, &answer, &rejected)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.NoError(t, rejected, "the approval sent again is taken")
	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
}

// An apply refused until an amendment before it is done waits, out of any
// workflow task, for the timeline's notice that it changed, and tries again
// then; without a notice it tries again after turnRecheck, then twice as
// long each time.
func TestAnApplyWaitingItsTurnTriesAgainWhenTheTimelineChanges(t *testing.T) {
	for name, notice := range map[string]time.Duration{"told after half a second": turnRecheck / 2, "never told": 0} {
		t.Run(name, func(t *testing.T) {
			env := amendmentEnv(t)
			env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, time.Hour), nil)
			var attempts []time.Time
			env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.ApplyAmendmentInput) (flow.Applied, error) {
				attempts = append(attempts, env.Now())
				if len(attempts) == 1 || notice == 0 && len(attempts) < 4 {
					return flow.Applied{}, temporal.NewApplicationError("apply amendment am-1 after am-0: not yet", flow.NotYourTurn)
				}
				return applied(), nil
			})
			if notice > 0 {
				env.RegisterDelayedCallback(func() { env.UpdateWorkflow(flow.UpdateTimelineChanged, "timeline-1", timelineNoticed(t)) }, time.Hour+notice)
			}

			env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

			assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
			waited := attempts[1].Sub(attempts[0])
			if notice > 0 {
				require.Len(t, attempts, 2)
				assert.GreaterOrEqual(t, waited, notice, "tried again when told")
				assert.Less(t, waited, turnRecheck)
				return
			}
			require.Len(t, attempts, 4)
			assert.GreaterOrEqual(t, waited, turnRecheck, "tried again after turnRecheck")
			assert.GreaterOrEqual(t, attempts[3].Sub(attempts[2]), 4*turnRecheck, "then twice as long each time")
		})
	}
}

// A withdrawal taken while the apply waits its turn ends the wait: the
// amendment is withdrawn, not applied behind the withdrawer's back.
func TestAWithdrawalWhileWaitingItsTurnWithdraws(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, time.Hour), nil)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).
		Return(flow.Applied{}, temporal.NewApplicationError("apply amendment am-1 after am-0: not yet", flow.NotYourTurn))
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool { return in.To == domain.StatusWithdrawn })).
		Return(moved(domain.StatusWithdrawn), nil).Once()
	withdrawer := flow.Actor{ID: "submitter-1", Source: "USER"}
	var answer flow.Outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "withdraw", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("withdrawal refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); answer = v.(flow.Outcome) },
		}, withdrawer)
	}, time.Hour+10*time.Second)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	require.NotNil(t, answer.Amendment)
	assert.Equal(t, domain.StatusWithdrawn, answer.Amendment.Status, "the withdrawer is told it was withdrawn")
}

// An apply that waits its turn for longer than turnPatience gives up: the
// amendment fails, with why, rather than waiting until Temporal ends its
// history.
func TestAnApplyWaitingItsTurnTooLongFails(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(opened(domain.StatusScheduled, time.Hour), nil)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).
		Return(flow.Applied{}, temporal.NewApplicationError("apply amendment am-1 after am-0: not yet", flow.NotYourTurn))
	var note string
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool { return in.To == domain.StatusFailed })).
		Run(func(args mock.Arguments) { note = *args.Get(1).(flow.TransitionInput).Note }).Return(moved(domain.StatusFailed), nil).Once()
	start := env.Now()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	out := outcome(t, env)
	assert.Equal(t, domain.StatusFailed, out.Amendment.Status)
	assert.Contains(t, note, "did not apply within")
	assert.GreaterOrEqual(t, env.Now().Sub(start), time.Hour+turnPatience)
}
