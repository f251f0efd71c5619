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
	w := &amendment{in: in}
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
	contract domain.Contract // as opened: its payment terms
	settled  bool            // the synchronous answer is known
	done     bool            // the workflow reached a terminal state
	withdraw *flow.Actor
	decision *flow.Decision
	approved bool
	check    updateCheck // whether an Update came through the API
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
	in.ApplyImmediately = workflow.GetVersion(ctx, changeApplyOnOpen, workflow.DefaultVersion, 1) == 1
	if err := workflow.ExecuteLocalActivity(ctx, a.OpenAmendment, in).Get(ctx, &opened); err != nil {
		return w.refuse(err)
	}
	openedAt := workflow.Now(ctx)
	w.out, w.contract = flow.Outcome{Amendment: &opened.Amendment}, opened.Contract
	if w.status() == domain.StatusApplied {
		w.settled = true
		return w.publishStatus(ctx)
	}
	if err := w.publishStatus(ctx); err != nil {
		return err
	}
	by := flow.Actor{ID: w.in.ActorID, Source: w.in.Source}

	if w.status() == domain.StatusReview {
		w.settled = true
		decided, err := w.awaitReview(ctx, opened.ReviewExpiry)
		switch {
		case err != nil:
			return err
		case !decided:
			return w.transition(ctx, domain.StatusExpired, systemActor, nil)
		case w.withdraw != nil:
			return w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
		case !w.approved:
			return w.transition(ctx, domain.StatusRejected, w.decision.Actor, &w.decision.Comment)
		}
		by = w.decision.Actor
		if err := w.recordEvent(ctx, flow.EventApproved, by, &w.decision.Comment); err != nil {
			return err
		}
		// The effective date may have come while the amendment was held.
		wait := openedAt.Add(opened.WaitFor).Sub(workflow.Now(ctx))
		if wait <= 0 {
			return w.apply(ctx, by)
		}
		if err := w.transition(ctx, domain.StatusScheduled, by, nil); err != nil {
			return err
		}
		opened.WaitFor = wait
	}

	if w.status() == domain.StatusScheduled {
		w.settled = true
		withdrawn, err := workflow.AwaitWithTimeout(ctx, opened.WaitFor, func() bool { return w.withdraw != nil })
		if err != nil {
			return err
		}
		if withdrawn {
			return w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
		}
		return w.apply(ctx, systemActor)
	}
	return w.apply(ctx, by)
}

// awaitReview waits for a decision or a withdrawal until the review expires,
// escalating halfway. It reports whether anything arrived in time.
func (w *amendment) awaitReview(ctx workflow.Context, expiry time.Duration) (bool, error) {
	arrived := func() bool { return w.decision != nil || w.withdraw != nil }
	half := expiry / 2
	ok, err := workflow.AwaitWithTimeout(ctx, half, arrived)
	if err != nil || ok {
		return ok, err
	}
	note := fmt.Sprintf("no decision after %s; the review expires in another %s", half, expiry-half)
	if err := w.recordEvent(ctx, flow.EventEscalated, systemActor, &note); err != nil {
		return false, err
	}
	return workflow.AwaitWithTimeout(ctx, expiry-half, arrived)
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
	var am domain.Amendment
	err := workflow.ExecuteLocalActivity(ctx, a.TransitionAmendment, flow.TransitionInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, From: domain.OpenStatuses, To: to, ActorID: by.ID, Source: by.Source, Note: note,
	}).Get(ctx, &am)
	if err != nil {
		return err
	}
	w.out.Amendment = &am
	w.settled = true
	return w.publishStatus(ctx)
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
		details = fmt.Sprintf("Status: %s\nContract: %s\nEffective: %s", am.Status, am.ContractNumber, am.EffectiveDate)
		if !slices.Contains(domain.OpenStatuses, am.Status) {
			// The workflow's metrics handler records nothing while replaying,
			// so each amendment is counted once, however often it is replayed.
			workflow.GetMetricsHandler(ctx).
				WithTags(map[string]string{"action": string(w.in.Change.Action), "outcome": am.Status}).
				Counter(AmendmentsMetric).Inc(1)
		}
	}
	workflow.SetCurrentDetails(ctx, details)
	return workflow.UpsertTypedSearchAttributes(ctx, flow.AmendmentStatusKey.ValueSet(w.status()))
}
