package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// changeApplyOnOpen marks the change that lets OpenAmendment apply an
// immediate change itself; histories recorded before it apply in a second
// local activity.
const changeApplyOnOpen = "apply-on-open"

// changeEndOnPermanentFailure marks the change that settles an amendment
// whose step failed for good (see permanentFailure). Before it such a step
// was retried forever, so no recorded history takes the new path; the
// version only keeps the rule that every command change is gated.
const changeEndOnPermanentFailure = "end-on-permanent-failure"

// internalFailureMessage is what a caller is told when a step failed for
// good; the cause, which may quote SQL, stays in the workflow's history.
const internalFailureMessage = "the amendment could not be completed because of an internal error; it was not applied"

// systemActor records changes the workflow makes on its own, such as applying
// a scheduled amendment when its date comes.
var systemActor = flow.Actor{ID: "system", Source: "SCHEDULER"}

// AmendmentWorkflow takes one amendment from request to a terminal state:
// price and record it, wait for its effective date (withdrawable meanwhile),
// then apply it.
func AmendmentWorkflow(ctx workflow.Context, in flow.OpenAmendmentInput) (flow.Outcome, error) {
	w := &amendment{in: in, clock: onTestClock("", time.Time{})}
	if err := w.registerHandlers(ctx); err != nil {
		return flow.Outcome{}, err
	}
	err := w.run(withDatabaseStep(ctx))
	if permanentFailure(err) {
		err = w.endOnPermanentFailure(withDatabaseStep(ctx), err)
	}
	w.done = true
	// Let pending update handlers return the final state before completing.
	if waitErr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); waitErr != nil && err == nil {
		err = waitErr
	}
	return w.out, err
}

type amendment struct {
	in       flow.OpenAmendmentInput
	out      flow.Outcome
	contract flow.ContractSummary // as opened: its payment terms
	settled  bool                 // the synchronous answer is known
	done     bool                 // the workflow reached a terminal state
	withdraw *flow.Actor
	// withdrawalAdopted is set when withdraw is one the workflow lost and
	// took again from Postgres (adoptCommittedWithdrawal).
	withdrawalAdopted bool
	decision          *flow.Decision
	approved          bool
	// reviewing holds while the workflow waits for a decision, whatever
	// status a re-pricing read meanwhile (see decisionRefusal).
	reviewing bool
	// decisionErr refuses the decision just taken (its quote changed since
	// the version its approver named); its Update answers with it.
	decisionErr error
	// rebased is set when the contract's timeline re-priced or failed the
	// amendment and the workflow has yet to read it.
	rebased bool
	check   updateCheck // whether an Update came through the API
	// clock is the contract's business clock: its waits are on it.
	clock *businessClock
	// counted is set once AmendmentsMetric has counted the amendment's end.
	counted bool
}

func (w *amendment) status() string {
	if w.out.Amendment == nil {
		return ""
	}
	return w.out.Amendment.Status
}

func (w *amendment) run(ctx workflow.Context) error {
	var a *activities.Amendments
	var opened flow.OpenAmendmentResult
	in := w.in
	if !in.ApplyImmediately {
		// Only a workflow whose starter did not say asks its version: every
		// starter says since apply-on-open, so a new immediate change records
		// no version marker and no TemporalChangeVersion upsert (two events,
		// a command and a visibility task fewer; other paths still ask other
		// versions). A history that recorded the marker replays without the
		// call: the SDK skips version markers its code no longer asks for.
		in.ApplyImmediately = workflow.GetVersion(ctx, changeApplyOnOpen, workflow.DefaultVersion, 1) == 1
	}
	if err := workflow.ExecuteLocalActivity(ctx, a.OpenAmendment, in).Get(ctx, &opened); err != nil {
		return w.refuse(err)
	}
	if tc := opened.TestClock; tc != nil {
		w.clock.id, w.clock.now = tc.ID, tc.Time
	}
	openedAt := w.clock.Now(ctx)
	effectiveAt := openedAt.Add(opened.WaitFor)
	w.out, w.contract = flow.Outcome{Amendment: &opened.Amendment}, opened.Contract
	if err := w.publishStatus(ctx); err != nil {
		return err
	}
	if w.status() == domain.StatusApplied {
		w.settled = true
		return w.notifyTimeline(ctx, opened.Rebased)
	}
	if err := w.notifyTimeline(ctx, opened.Rebased); err != nil {
		return err
	}
	by := flow.Actor{ID: w.in.ActorID, Source: w.in.Source}

	if w.status() == domain.StatusReview {
		w.settled = true
		approved, err := w.review(ctx, opened.ReviewExpiry)
		if err != nil || !approved || w.ended() {
			return err
		}
		by = w.decision.Actor
		wait := effectiveAt.Sub(w.clock.Now(ctx))
		if wait <= 0 {
			// The effective date came while the amendment was held.
			return w.apply(ctx, by)
		}
		if w.status() == domain.StatusReview { // approved before the timeline
			if err := w.transition(ctx, domain.StatusScheduled, by, nil); err != nil {
				return err
			}
		}
		effectiveAt = w.clock.Now(ctx).Add(wait)
	}

	if w.status() == domain.StatusScheduled {
		w.settled = true
		withdrawn, err := w.awaitUntil(ctx, effectiveAt, func() bool { return w.withdraw != nil })
		if err != nil || w.ended() {
			return err
		}
		if withdrawn {
			return w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
		}
		return w.apply(ctx, systemActor)
	}
	return w.apply(ctx, by)
}

// review waits for the amendment in REVIEW to be decided, withdrawn or
// expire after expiry, and acts on the outcome. It reports whether it was
// approved. A decision (an approval, a rejection) Postgres holds but the
// workflow lost is taken when the workflow reads the amendment (see
// adoptCommittedDecision), at the latest when the review would expire.
func (w *amendment) review(ctx workflow.Context, expiry time.Duration) (bool, error) {
	w.reviewing = true
	defer func() { w.reviewing = false }()
	r := reviewClock{expiry: expiry, escalateAt: w.clock.Now(ctx).Add(expiry / 2)}
	for {
		decided, err := w.awaitReview(ctx, &r)
		if err == nil && !decided && !w.ended() {
			decided, err = w.lookBeforeExpiring(ctx)
		}
		switch {
		case err != nil || w.ended():
			return false, err
		case !decided:
			return false, w.transition(ctx, domain.StatusExpired, systemActor, nil)
		case w.withdraw != nil:
			return false, w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
		case !w.approved:
			return false, w.transition(ctx, domain.StatusRejected, w.decision.Actor, &w.decision.Comment)
		}
		if workflow.GetVersion(ctx, changeTimeline, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return true, w.recordEvent(ctx, flow.EventApproved, w.decision.Actor, &w.decision.Comment)
		}
		if accepted, err := w.approve(ctx); err != nil || accepted {
			return accepted, err
		}
	}
}

// reviewClock is when a review escalates (halfway through its expiry) and
// when it expires: expiry after the escalation, once that is recorded.
type reviewClock struct {
	expiry     time.Duration
	escalateAt time.Time
	expiresAt  time.Time
}

// awaitReview waits for a decision or a withdrawal until the review expires,
// escalating halfway. A wait resumed after a refused decision keeps its
// times. It reports whether anything arrived in time.
func (w *amendment) awaitReview(ctx workflow.Context, r *reviewClock) (bool, error) {
	arrived := func() bool { return w.decision != nil || w.withdraw != nil }
	if r.expiresAt.IsZero() {
		ok, err := w.awaitUntil(ctx, r.escalateAt, arrived)
		if err != nil || ok || w.ended() {
			return ok, err
		}
		half := r.expiry / 2
		note := fmt.Sprintf("no decision after %s; the review expires in another %s", half, r.expiry-half)
		if err := w.recordEvent(ctx, flow.EventEscalated, systemActor, &note); err != nil {
			return false, err
		}
		r.expiresAt = w.clock.Now(ctx).Add(r.expiry - half)
	}
	return w.awaitUntil(ctx, r.expiresAt, arrived)
}

func (w *amendment) recordEvent(ctx workflow.Context, event string, by flow.Actor, note *string) error {
	var a *activities.Amendments
	return workflow.ExecuteLocalActivity(ctx, a.RecordAmendmentEvent, flow.EventInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, Event: event, ActorID: by.ID, Source: by.Source, Note: note,
	}).Get(ctx, nil)
}

// fail records a refusal that came after the amendment was opened.
func (w *amendment) fail(ctx workflow.Context, err error) error {
	w.out.ErrorKind, w.out.ErrorFault, w.out.ErrorMessage = businessKind(err), businessFault(err), applicationMessage(err)
	return w.transition(ctx, domain.StatusFailed, systemActor, &w.out.ErrorMessage)
}

func faultError(kind domain.Kind, fault domain.Fault, message string) error {
	return temporal.NewNonRetryableApplicationError(message, string(kind), nil, fault)
}

func (w *amendment) transition(ctx workflow.Context, to string, by flow.Actor, note *string) error {
	var a *activities.Amendments
	var got flow.Transitioned
	err := workflow.ExecuteLocalActivity(ctx, a.TransitionAmendment, flow.TransitionInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, From: domain.OpenStatuses, To: to, ActorID: by.ID, Source: by.Source, Note: note,
	}).Get(ctx, &got)
	if businessKind(err) == domain.KindConflict && workflow.GetVersion(ctx, changeTimeline, workflow.DefaultVersion, 1) == 1 {
		// The timeline ended it meanwhile (and telling this workflow failed):
		// end as Postgres has it.
		return w.sync(ctx)
	}
	if err != nil {
		return err
	}
	w.out.Amendment = &got.Amendment
	w.settled = true
	if err := w.publishStatus(ctx); err != nil {
		return err
	}
	return w.notifyTimeline(ctx, got.Rebased)
}

// refuse turns a business refusal into the outcome; other errors fail the workflow.
func (w *amendment) refuse(err error) error {
	kind := businessKind(err)
	if kind == "" {
		return err
	}
	w.out = flow.Outcome{ErrorKind: kind, ErrorFault: businessFault(err), ErrorMessage: applicationMessage(err)}
	w.settled = true
	return nil
}

// AmendmentsMetric counts amendments reaching a terminal status, tagged with
// their action and that status as outcome. Prometheus shows it as
// contractd_amendments_total.
const AmendmentsMetric = "contractd_amendments"

// publishStatus shows the amendment's status to operators: as a search
// attribute to filter on, as the workflow's current details in the UI and,
// once the amendment has ended, in AmendmentsMetric.
func (w *amendment) publishStatus(ctx workflow.Context) error {
	details := "Status: " + w.status()
	if am := w.out.Amendment; am != nil {
		details = fmt.Sprintf("%s: %s\nContract: %s\nEffective: %s", am.Action, am.Status, am.ContractNumber, am.EffectiveDate)
		if !slices.Contains(domain.OpenStatuses, am.Status) && !w.counted {
			// The workflow's metrics handler records nothing while replaying,
			// so each amendment is counted once, however often it is replayed;
			// and once however often it is published ended (a withdrawal or a
			// rejection the workflow read before taking it again, see
			// adoptCommittedWithdrawal and adoptCommittedDecision).
			w.counted = true
			workflow.GetMetricsHandler(ctx).
				WithTags(map[string]string{"action": string(w.in.Change.Action), "outcome": am.Status}).
				Counter(AmendmentsMetric).Inc(1)
		}
	}
	workflow.SetCurrentDetails(ctx, details)
	return workflow.UpsertTypedSearchAttributes(ctx, flow.AmendmentStatusKey.ValueSet(w.status()))
}
