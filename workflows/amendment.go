package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
)

// Update names clients send to an amendment workflow.
const (
	// UpdateOutcome waits until the amendment is settled (applied, scheduled,
	// held for review, or refused) and returns where it stands; sent with
	// Update-with-Start so the caller gets a synchronous answer.
	UpdateOutcome = "outcome"
	// UpdateWithdraw withdraws a SCHEDULED or REVIEW amendment.
	UpdateWithdraw = "withdraw"
	// UpdateApprove and UpdateReject decide an amendment held in REVIEW.
	UpdateApprove = "approve"
	UpdateReject  = "reject"
)

// Events recorded in an amendment's history besides its statuses.
const (
	EventApproved          = "APPROVED"
	EventEscalated         = "ESCALATED"
	EventPaymentAuthorised = "PAYMENT_AUTHORISED"
	EventPaymentCaptured   = "PAYMENT_CAPTURED"
	EventPaymentVoided     = "PAYMENT_VOIDED"
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

// AmendmentWorkflowID is deterministic per amendment.
func AmendmentWorkflowID(amendmentID string) string { return "amendment/" + amendmentID }

// Outcome is an amendment's state as the API reports it. A refusal carries
// the domain kind and message instead of an amendment. It leaves out the
// contract, which the API reads from Postgres: a contract's segments grow
// with every change, and the outcome is stored in the workflow's history.
type Outcome struct {
	Amendment    *domain.Amendment
	ErrorKind    domain.Kind
	ErrorFault   domain.Fault
	ErrorMessage string
}

// Actor is who asks for a decision on an amendment.
type Actor struct {
	ID     string
	Source string
}

// Decision is an approver's answer to an amendment in REVIEW.
type Decision struct {
	Actor   Actor
	Comment string
}

// systemActor records changes the workflow makes on its own, such as applying
// a scheduled amendment when its date comes.
var systemActor = Actor{ID: "system", Source: "SCHEDULER"}

// AmendmentWorkflow takes one amendment from request to a terminal state:
// price and record it, wait for its effective date (withdrawable meanwhile),
// then apply it.
func AmendmentWorkflow(ctx workflow.Context, in activities.OpenAmendmentInput) (Outcome, error) {
	w := &amendment{in: in}
	if err := w.registerHandlers(ctx); err != nil {
		return Outcome{}, err
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
	in       activities.OpenAmendmentInput
	out      Outcome
	contract domain.Contract // as opened: its payment terms
	settled  bool            // the synchronous answer is known
	done     bool            // the workflow reached a terminal state
	withdraw *Actor
	decision *Decision
	approved bool
	check    updateCheck // whether an Update came through the API
}

func (w *amendment) status() string {
	if w.out.Amendment == nil {
		return ""
	}
	return w.out.Amendment.Status
}

func (w *amendment) registerHandlers(ctx workflow.Context) error {
	w.check = senderCheck(ctx)
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateOutcome,
		func(ctx workflow.Context, _ string) (Outcome, error) {
			if err := workflow.Await(ctx, func() bool { return w.settled || w.done }); err != nil {
				return w.out, err
			}
			if !w.settled {
				// The workflow ended without an answer: say so, never hang.
				return w.out, temporal.NewNonRetryableApplicationError(internalFailureMessage, string(domain.KindInternal), nil)
			}
			return w.out, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, requestHash string) error {
			if err := refuseUnsigned(ctx, w.check, UpdateOutcome, ""); err != nil {
				return err
			}
			if requestHash != w.in.RequestHash {
				return temporal.NewApplicationError("this Idempotency-Key was already used with a different request body", string(domain.KindUnprocessable))
			}
			return nil
		}})
	if err != nil {
		return err
	}
	if err := w.registerDecision(ctx, UpdateApprove, true); err != nil {
		return err
	}
	if err := w.registerDecision(ctx, UpdateReject, false); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateWithdraw,
		func(ctx workflow.Context, by Actor) (Outcome, error) {
			if err := workflow.Await(ctx, w.opened); err != nil {
				return w.out, err
			}
			if err := w.withdrawalRefusal(by); err != nil {
				return w.out, err
			}
			if w.withdraw == nil {
				w.withdraw = &by
			}
			if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
				return w.out, err
			}
			return w.out, w.internalFailure()
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, by Actor) error {
			if err := refuseUnsigned(ctx, w.check, UpdateWithdraw, by.ID); err != nil {
				return err
			}
			if !w.opened() {
				return nil // the handler decides once the amendment is known
			}
			return w.withdrawalRefusal(by)
		}})
}

// opened reports whether this run knows the amendment (or has ended). An
// update can arrive before that: after a crash the client may have learnt
// of the amendment from the database while its workflow task is retried.
func (w *amendment) opened() bool { return w.out.Amendment != nil || w.done }

// withdrawalRefusal says why the amendment cannot be withdrawn now, or nil.
// The same actor asking again is a retry: it waits for the same outcome.
func (w *amendment) withdrawalRefusal(by Actor) error {
	if w.withdraw != nil && w.withdraw.ID == by.ID {
		return nil
	}
	// A decision taken on a REVIEW amendment is being acted on: too late to withdraw.
	deciding := w.decision != nil && w.status() == domain.StatusReview
	if w.withdraw != nil || deciding || !slices.Contains([]string{domain.StatusScheduled, domain.StatusReview}, w.status()) {
		return temporal.NewApplicationError("only a SCHEDULED or REVIEW amendment can be withdrawn; this one is "+w.status(), string(domain.KindConflict))
	}
	return nil
}

// registerDecision accepts an approver's decision only while the amendment
// is in REVIEW and undecided, and never from its submitter (four eyes). The
// caller's answer waits until the workflow has acted on it.
func (w *amendment) registerDecision(ctx workflow.Context, name string, approve bool) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, d Decision) (Outcome, error) {
			if err := workflow.Await(ctx, w.opened); err != nil {
				return w.out, err
			}
			if err := w.decisionRefusal(d, approve); err != nil {
				return w.out, err
			}
			if w.decision == nil {
				w.decision, w.approved = &d, approve
			}
			if err := workflow.Await(ctx, func() bool { return w.done || w.status() != domain.StatusReview }); err != nil {
				return w.out, err
			}
			return w.out, w.internalFailure()
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
			if err := refuseUnsigned(ctx, w.check, name, d.Actor.ID); err != nil {
				return err
			}
			if !w.opened() {
				return nil // the handler decides once the amendment is known
			}
			return w.decisionRefusal(d, approve)
		}})
}

// decisionRefusal says why a decision cannot be taken now, or nil. The same
// approver sending the same decision again is a retry: it waits for the
// same outcome.
func (w *amendment) decisionRefusal(d Decision, approve bool) error {
	if w.decision != nil && w.decision.Actor.ID == d.Actor.ID && w.approved == approve {
		return nil
	}
	if w.status() != domain.StatusReview || w.decision != nil || w.withdraw != nil {
		return temporal.NewApplicationError("only an amendment in REVIEW can be decided; this one is "+w.status(), string(domain.KindConflict))
	}
	if d.Actor.ID == w.in.ActorID {
		return temporal.NewApplicationError("the submitter of an amendment cannot decide it (four-eyes rule)", string(domain.KindForbidden))
	}
	return nil
}

func (w *amendment) run(ctx workflow.Context) error {
	var a *activities.Activities
	var opened activities.OpenAmendmentResult
	in := w.in
	in.ApplyImmediately = workflow.GetVersion(ctx, changeApplyOnOpen, workflow.DefaultVersion, 1) == 1
	if err := workflow.ExecuteLocalActivity(ctx, a.OpenAmendment, in).Get(ctx, &opened); err != nil {
		return w.refuse(err)
	}
	openedAt := workflow.Now(ctx)
	w.out, w.contract = Outcome{Amendment: &opened.Amendment}, opened.Contract
	if w.status() == domain.StatusApplied {
		w.settled = true
		return w.publishStatus(ctx)
	}
	if err := w.publishStatus(ctx); err != nil {
		return err
	}
	by := Actor{ID: w.in.ActorID, Source: w.in.Source}

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
		if err := w.recordEvent(ctx, EventApproved, by, &w.decision.Comment); err != nil {
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
	if err := w.recordEvent(ctx, EventEscalated, systemActor, &note); err != nil {
		return false, err
	}
	return workflow.AwaitWithTimeout(ctx, expiry-half, arrived)
}

func (w *amendment) recordEvent(ctx workflow.Context, event string, by Actor, note *string) error {
	var a *activities.Activities
	return workflow.ExecuteLocalActivity(ctx, a.RecordAmendmentEvent, activities.EventInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, Event: event, ActorID: by.ID, Source: by.Source, Note: note,
	}).Get(ctx, nil)
}

// apply writes the change. A change paid up front (a crossgrade upgrade) is
// authorised first, captured once applied, and voided if it cannot be applied.
func (w *amendment) apply(ctx workflow.Context, by Actor) error {
	var a *activities.Activities
	var auth *payments.Authorisation
	if amount := w.paymentAmount(); amount > 0 {
		var err error
		if auth, err = w.authorise(ctx, amount); err != nil {
			return w.fail(ctx, err)
		}
	}
	var applied store.Applied
	err := workflow.ExecuteLocalActivity(ctx, a.ApplyAmendment, activities.ApplyAmendmentInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, ActorID: by.ID, Source: by.Source,
	}).Get(ctx, &applied)
	if err != nil {
		gaveUp := permanentFailure(err) && w.endsOnPermanentFailure(ctx)
		if businessKind(err) == "" && !gaveUp {
			return err
		}
		if auth != nil {
			if voidErr := w.settlePayment(ctx, a.VoidPayment, activities.VoidInput{
				IdempotencyKey: w.paymentKey("void"), AuthorisationID: auth.ID,
			}, EventPaymentVoided, auth); voidErr != nil {
				return voidErr
			}
		}
		if gaveUp {
			return err
		}
		return w.fail(ctx, err)
	}
	// What Postgres now holds, should the capture below fail for good.
	w.out.Amendment = &applied.Amendment
	if auth != nil {
		if err := w.settlePayment(ctx, a.CapturePayment, activities.CaptureInput{
			IdempotencyKey: w.paymentKey("capture"), AuthorisationID: auth.ID, Amount: auth.Amount,
		}, EventPaymentCaptured, auth); err != nil {
			return err
		}
		// Recording the capture paid the invoice read before it.
		if inv := applied.Amendment.Invoice; inv != nil {
			inv.Status, inv.AmountDue = store.InvoicePaid, 0
		}
	}
	w.settled = true
	return w.publishStatus(ctx)
}

func (w *amendment) paymentAmount() int64 {
	if w.out.Amendment == nil || w.out.Amendment.Quote.Crossgrade == nil {
		return 0
	}
	return w.out.Amendment.Quote.Crossgrade.PaymentAmount
}

func (w *amendment) paymentKey(step string) string {
	return "amendment/" + w.in.AmendmentID + "/" + step
}

// authorise reserves the up-front payment. A provider outage is retried a
// few times, then reported as a payment system fault; a decline at once.
func (w *amendment) authorise(ctx workflow.Context, amount int64) (*payments.Authorisation, error) {
	var a *activities.Activities
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second, MaximumAttempts: 4,
		},
	})
	var auth payments.Authorisation
	err := workflow.ExecuteActivity(actx, a.AuthorisePayment, activities.AuthoriseInput{
		IdempotencyKey: w.paymentKey("authorise"),
		Request:        payments.AuthoriseRequest{PaymentMethod: w.contract.PaymentMethod, Amount: amount, Currency: w.contract.Currency},
	}).Get(ctx, &auth)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return &auth, w.recordPaymentEvent(ctx, EventPaymentAuthorised, &auth, auth.ID)
	case errors.As(err, &appErr) && appErr.Type() == string(payments.CodeDeclined):
		return nil, faultError(domain.KindUnprocessable, domain.FaultPaymentAuthorisation, "the payment was declined: "+appErr.Message())
	default:
		return nil, faultError(domain.KindConflict, domain.FaultPaymentSystem, "the payment provider could not be reached")
	}
}

// settlePayment captures or voids an authorisation; it retries until the
// provider answers, since the money must end up in exactly one state.
func (w *amendment) settlePayment(ctx workflow.Context, activity, input any, event string, auth *payments.Authorisation) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var result struct{ ID string }
	if err := workflow.ExecuteActivity(actx, activity, input).Get(ctx, &result); err != nil {
		return err
	}
	return w.recordPaymentEvent(ctx, event, auth, result.ID)
}

// recordPaymentEvent records a payment step in the amendment's history; a
// capture also settles the invoice the amendment raised.
func (w *amendment) recordPaymentEvent(ctx workflow.Context, event string, auth *payments.Authorisation, ref string) error {
	var a *activities.Activities
	note := fmt.Sprintf("%s %d %s", ref, auth.Amount, auth.Currency)
	in := activities.EventInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, Event: event, ActorID: "payments", Source: "SYSTEM", Note: &note,
	}
	if event == EventPaymentCaptured {
		in.Capture = &activities.CaptureRef{PaymentID: ref, Amount: auth.Amount}
	}
	return workflow.ExecuteLocalActivity(ctx, a.RecordAmendmentEvent, in).Get(ctx, nil)
}

// fail records a refusal that came after the amendment was opened.
func (w *amendment) fail(ctx workflow.Context, err error) error {
	w.out.ErrorKind, w.out.ErrorFault, w.out.ErrorMessage = businessKind(err), businessFault(err), applicationMessage(err)
	return w.transition(ctx, domain.StatusFailed, systemActor, &w.out.ErrorMessage)
}

func faultError(kind domain.Kind, fault domain.Fault, message string) error {
	return temporal.NewNonRetryableApplicationError(message, string(kind), nil, fault)
}

func (w *amendment) transition(ctx workflow.Context, to string, by Actor, note *string) error {
	var a *activities.Activities
	var am domain.Amendment
	err := workflow.ExecuteLocalActivity(ctx, a.TransitionAmendment, activities.TransitionInput{
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
	w.out = Outcome{ErrorKind: kind, ErrorFault: businessFault(err), ErrorMessage: applicationMessage(err)}
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
	return workflow.UpsertTypedSearchAttributes(ctx, AmendmentStatusKey.ValueSet(w.status()))
}

// businessKind extracts the domain kind of a refusal raised by an activity.
func businessKind(err error) domain.Kind {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() && !permanentFailure(err) {
		return domain.Kind(appErr.Type())
	}
	return ""
}

// permanentFailure reports a step that failed for a reason that is not a
// business refusal but can never succeed, such as a value Postgres refuses
// (the worker classifies these; see worker.permanentFailures).
func permanentFailure(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == string(domain.KindInternal)
}

func (w *amendment) endsOnPermanentFailure(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeEndOnPermanentFailure, workflow.DefaultVersion, 1) == 1
}

// endOnPermanentFailure settles an amendment whose step failed for good and
// returns err, which fails the workflow so operators see its cause. An
// amendment still open in Postgres becomes FAILED, which frees its contract
// for other changes, and the callers waiting on it are told it failed. One
// that was already applied (its payment capture is what failed) is answered
// as it stands: the change was made, and a retry must not make it again.
func (w *amendment) endOnPermanentFailure(ctx workflow.Context, err error) error {
	if !w.endsOnPermanentFailure(ctx) {
		return err
	}
	if w.out.Amendment == nil || slices.Contains(domain.OpenStatuses, w.status()) {
		w.out.ErrorKind, w.out.ErrorFault, w.out.ErrorMessage = domain.KindInternal, "", internalFailureMessage
	}
	if slices.Contains(domain.OpenStatuses, w.status()) {
		note := internalFailureMessage
		if failErr := w.transition(ctx, domain.StatusFailed, systemActor, &note); failErr != nil {
			return errors.Join(err, failErr)
		}
	}
	w.settled = true
	return err
}

// internalFailure is the error update callers get once the amendment failed
// for good, or nil.
func (w *amendment) internalFailure() error {
	if w.out.ErrorKind != domain.KindInternal {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(w.out.ErrorMessage, string(domain.KindInternal), nil)
}

// businessFault extracts the crossgrade fault a refusal carries, if any.
func businessFault(err error) domain.Fault {
	var appErr *temporal.ApplicationError
	var fault domain.Fault
	if errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&fault) == nil {
		return fault
	}
	return ""
}

func applicationMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
