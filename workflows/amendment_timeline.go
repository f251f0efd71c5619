package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// changeTimeline marks the change that puts amendments on their contract's
// timeline: an approval is one step that accepts the amendment and prices it
// again (before it, APPROVED was recorded, then SCHEDULED), and a step that
// re-prices others is followed by telling their workflows. Histories
// recorded before it took neither.
const changeTimeline = "contract-timeline"

// timelineNoticeTimeout bounds one attempt at telling the workflows of a
// contract's re-priced amendments.
const timelineNoticeTimeout = 30 * time.Second

// awaitUntil waits until cond holds or deadline passes, reporting whether
// cond held. A re-pricing of the amendment meanwhile is read at once; when
// it failed the amendment, the wait ends (ended() then holds).
func (w *amendment) awaitUntil(ctx workflow.Context, deadline time.Time, cond func() bool) (bool, error) {
	for {
		if !deadline.After(w.clock.Now(ctx)) {
			return cond(), nil
		}
		ok, err := w.clock.await(ctx, deadline, func() bool { return cond() || w.rebased })
		if err != nil || !w.rebased {
			return ok, err
		}
		w.rebased = false
		if err := w.sync(ctx); err != nil || w.ended() {
			return false, err
		}
		if cond() {
			return true, nil
		}
	}
}

// ended reports whether the timeline failed the amendment.
func (w *amendment) ended() bool { return w.status() == domain.StatusFailed }

// sync reads the amendment again after its contract's timeline changed it.
func (w *amendment) sync(ctx workflow.Context) error {
	var a *activities.Amendments
	var am domain.Amendment
	if err := workflow.ExecuteLocalActivity(ctx, a.SyncAmendment, flow.AmendmentRef{TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID}).Get(ctx, &am); err != nil {
		return err
	}
	w.out.Amendment = &am
	if am.Status == domain.StatusFailed {
		w.out.ErrorKind, w.out.ErrorMessage = domain.KindConflict, failureNote(am)
	}
	w.adoptCommittedDecision(ctx, am)
	w.adoptCommittedWithdrawal(ctx, am)
	return w.publishStatus(ctx)
}

// changeAdoptApproval marks the change that makes a workflow waiting for a
// decision take an approval Postgres holds for its amendment, which it
// lost: the workflow task that took the approval failed after the
// approval's step committed, and Temporal aborted the Update. Before it the
// workflow learnt of it only if the approver sent it again; otherwise it
// waited out the review and expired an amendment Postgres showed approved,
// which meanwhile held up every later change of its contract.
const changeAdoptApproval = "adopt-committed-approval"

// changeAdoptRejection marks the change that makes a workflow waiting for a
// decision take a rejection Postgres holds for its amendment, which it lost
// as it can lose an approval (see changeAdoptApproval). Before it the
// workflow, replayed, read the amendment REJECTED when told its timeline
// changed, refused the rejection's Update sent again (409, "this one is
// REJECTED") and waited until the review would expire, escalating a
// rejected amendment on the way.
const changeAdoptRejection = "adopt-committed-rejection"

// adoptCommittedDecision takes, as the decision the workflow waits for, the
// one am shows while the workflow still reviews it: the approval when am is
// accepted (SCHEDULED or PENDING), the rejection when it is REJECTED. Only
// this workflow decides its amendment, so it is one the workflow took and
// lost. Its approver's Update sent again is then a retry, answered with
// what it did, and the decision's step runs again: it returns the amendment
// as it stands, and tells the workflows of the amendments it re-priced,
// which the lost task never did (see store's Approve and Transition).
func (w *amendment) adoptCommittedDecision(ctx workflow.Context, am domain.Amendment) {
	if !w.reviewing || w.decision != nil || w.withdraw != nil {
		return
	}
	approve, event, change := true, flow.EventApproved, changeAdoptApproval
	switch {
	case domain.Accepted(am.Status):
	case am.Status == domain.StatusRejected:
		approve, event, change = false, domain.StatusRejected, changeAdoptRejection
	default:
		return
	}
	// The latest such event: the one that decided it.
	decided, ok := latestEvent(am, event)
	if !ok || decided.ActorID == w.in.ActorID || // four eyes, as when it was first taken
		workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	w.decision = &flow.Decision{Actor: flow.Actor{ID: decided.ActorID, Source: decided.Source}}
	if decided.Note != nil {
		w.decision.Comment = *decided.Note
	}
	// An earlier decision's refusal is not this one's: the approver's
	// request sent again waits for this one's outcome.
	w.approved, w.decisionErr = approve, nil
}

// changeAdoptWithdrawal marks the change that makes a workflow take a
// withdrawal Postgres holds for its amendment, which it lost as it can lose
// an approval (see changeAdoptApproval): the workflow task that took the
// withdrawal failed after its step committed, and Temporal aborted the
// Update. Before it the workflow, replayed, read the amendment WITHDRAWN
// when told its timeline changed, kept waiting for its date, and refused
// the withdrawal's Update sent again (409, "this one is WITHDRAWN").
const changeAdoptWithdrawal = "adopt-committed-withdrawal"

// adoptCommittedWithdrawal takes, as the withdrawal the workflow waits for,
// the one am shows when the workflow has none: only this workflow withdraws
// its amendment, so it is one the workflow took and lost. Its withdrawer's
// Update sent again is then a retry, answered with the amendment withdrawn,
// and the withdrawal's step runs again: it returns the amendment as it
// stands, and tells the workflows of the amendments it re-priced, which the
// lost task never did (see store's Transition).
func (w *amendment) adoptCommittedWithdrawal(ctx workflow.Context, am domain.Amendment) {
	if w.withdraw != nil || am.Status != domain.StatusWithdrawn {
		return
	}
	withdrawal, ok := latestEvent(am, domain.StatusWithdrawn)
	if !ok || workflow.GetVersion(ctx, changeAdoptWithdrawal, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	w.withdraw, w.withdrawalAdopted = &flow.Actor{ID: withdrawal.ActorID, Source: withdrawal.Source}, true
}

// latestEvent is the last event of am's history that records status.
func latestEvent(am domain.Amendment, status string) (domain.AmendmentEvent, bool) {
	for i := len(am.History) - 1; i >= 0; i-- {
		if am.History[i].Status == status {
			return am.History[i], true
		}
	}
	return domain.AmendmentEvent{}, false
}

// lookBeforeExpiring reads the amendment once more before its review
// expires, and reports whether it holds a decision or a withdrawal the
// workflow lost (see adoptCommittedDecision, adoptCommittedWithdrawal): a
// withdrawal taken so ends the review as withdrawn, its step telling the
// amendments it re-priced, not as expired. Only a withdrawal adopted counts
// here: one that arrived meanwhile as an Update decided nothing in the
// histories from before adoption.
func (w *amendment) lookBeforeExpiring(ctx workflow.Context) (bool, error) {
	if workflow.GetVersion(ctx, changeAdoptApproval, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false, nil
	}
	if err := w.sync(ctx); err != nil {
		return false, err
	}
	return w.decision != nil || w.withdrawalAdopted, nil
}

// failureNote is why the amendment failed, as its history says.
func failureNote(am domain.Amendment) string {
	for i := len(am.History) - 1; i >= 0; i-- {
		if e := am.History[i]; e.Status == domain.StatusFailed && e.Note != nil {
			return *e.Note
		}
	}
	return "the amendment no longer holds on its contract's timeline"
}

// notifyTimeline tells the workflows of the contract's re-priced amendments,
// when the step just taken re-priced any.
func (w *amendment) notifyTimeline(ctx workflow.Context, rebased bool) error {
	if !rebased || workflow.GetVersion(ctx, changeTimeline, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	return tellTimeline(ctx, w.in.TenantID, w.in.ContractID)
}

// tellTimeline tells the workflows of the contract's re-priced amendments
// (activity NotifyTimeline), retried until it has.
func tellTimeline(ctx workflow.Context, tenantID, contractID string) error {
	var a *activities.Amendments
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timelineNoticeTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	return workflow.ExecuteActivity(actx, a.NotifyTimeline, flow.TimelineInput{TenantID: tenantID, ContractID: contractID}).Get(ctx, nil)
}

// approve accepts the approved amendment onto its contract's timeline. It
// reports false when the approval was refused (the quote changed since the
// version the approver named): the approver is told, and the amendment
// stays in REVIEW.
func (w *amendment) approve(ctx workflow.Context) (bool, error) {
	var a *activities.Amendments
	d := w.decision
	var comment *string
	if d.Comment != "" {
		comment = &d.Comment
	}
	var got flow.Transitioned
	err := workflow.ExecuteLocalActivity(ctx, a.ApproveAmendment, flow.ApproveInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, ActorID: d.Actor.ID, Source: d.Actor.Source, Comment: comment, QuoteVersion: d.QuoteVersion,
	}).Get(ctx, &got)
	if businessKind(err) != "" {
		w.decisionErr, w.decision, w.approved = err, nil, false
		return false, nil
	}
	if err != nil {
		return false, err
	}
	w.out.Amendment = &got.Amendment
	if got.Status == domain.StatusFailed {
		w.out.ErrorKind, w.out.ErrorMessage = domain.KindConflict, failureNote(got.Amendment)
	}
	if err := w.publishStatus(ctx); err != nil {
		return false, err
	}
	return true, w.notifyTimeline(ctx, got.Rebased)
}

// changeTurnWait marks the change that makes an apply refused for its turn
// wait in the workflow for the timeline to change. Before it the apply was
// retried as any failing step is: at first inside one workflow task, which
// kept the task open for seconds and the Updates sent meanwhile (the notice
// of the very change it waited for) unanswered.
const changeTurnWait = "apply-waits-its-turn"

// An apply waiting its turn waits for the timeline's notice for turnRecheck
// before it tries again anyway, and twice as long each time after, up to
// turnRecheckMax: the amendment before it applies in a moment, as a rule,
// without re-pricing this one (so without a notice), but may wait for a
// payment provider that is down. After turnPatience it gives up, failing
// the amendment: each recheck is a timer in the history, which Temporal
// bounds (a day of them is about 17,000 events of its 51,200).
const (
	turnRecheck    = time.Second
	turnRecheckMax = 30 * time.Second
	turnPatience   = 24 * time.Hour
)

// errWithdrawnInTurn ends a wait for the amendment's turn that a withdrawal
// interrupted: the amendment, not applied, is withdrawn.
var errWithdrawnInTurn = errors.New("withdrawn while it waited its turn")

// applyInTurn applies the amendment once no amendment before it on its
// contract's timeline is open. One that is refuses it (flow.NotYourTurn);
// its workflow tells this one when its step re-prices this one (the
// timeline-changed Update), and the apply is tried again then, or after a
// while without a notice (see turnRecheck). A withdrawal meanwhile ends the
// wait (errWithdrawnInTurn); so does turnPatience, as a refusal that fails
// the amendment. authorised is the up-front payment held for it: an apply
// that finds another amount due is refused too (flow.PaymentChanged, see
// payAndApply).
func (w *amendment) applyInTurn(ctx workflow.Context, by flow.Actor, authorised int64) (flow.Applied, error) {
	var a *activities.Amendments
	actx := workflow.WithLocalActivityOptions(ctx, databaseStep([]string{flow.NotYourTurn, flow.PaymentChanged}))
	in := flow.ApplyAmendmentInput{TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, ActorID: by.ID, Source: by.Source, Authorised: authorised}
	recheck, since := turnRecheck, workflow.Now(ctx)
	for {
		var applied flow.Applied
		err := workflow.ExecuteLocalActivity(actx, a.ApplyAmendment, in).Get(ctx, &applied)
		if !notYourTurn(err) || workflow.GetVersion(ctx, changeTurnWait, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return applied, err
		}
		if workflow.Now(ctx).Sub(since) >= turnPatience {
			return applied, faultError(domain.KindConflict, "", fmt.Sprintf("an amendment before it on the contract's timeline did not apply within %s", turnPatience))
		}
		if _, err := workflow.AwaitWithTimeout(ctx, recheck, func() bool { return w.rebased || w.withdraw != nil }); err != nil {
			return applied, err
		}
		if w.withdraw != nil {
			return applied, errWithdrawnInTurn
		}
		// The step reads the amendment again, as any re-pricing left it.
		w.rebased = false
		recheck = min(2*recheck, turnRecheckMax)
	}
}

// notYourTurn reports an apply refused until an amendment before it is done.
func notYourTurn(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == flow.NotYourTurn
}
