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
	"github.com/contractd/contractd/internal/payments"
)

// changeRepricedPayment marks the change that authorises an up-front
// payment again when the timeline re-priced it while its apply waited its
// turn (see payAndApply). Before it such an apply captured the amount
// authorised, whatever its invoice asked.
const changeRepricedPayment = "authorise-repriced-payment"

// apply writes the change. A change paid up front (a crossgrade upgrade) is
// authorised first, captured once applied, and voided if it cannot be applied.
func (w *amendment) apply(ctx workflow.Context, by flow.Actor) error {
	applied, auth, err := w.payAndApply(ctx, by)
	if unpaid := (*authorisationFailure)(nil); errors.As(err, &unpaid) {
		return w.unauthorised(ctx, auth, unpaid.err)
	}
	if errors.Is(err, errWithdrawnInTurn) {
		// Withdrawn while it waited its turn: nothing was applied.
		if err := w.release(ctx, auth); err != nil {
			return err
		}
		return w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
	}
	if err != nil {
		gaveUp := permanentFailure(err) && w.endsOnPermanentFailure(ctx)
		if businessKind(err) == "" && !gaveUp {
			return err
		}
		if err := w.release(ctx, auth); err != nil {
			return err
		}
		if gaveUp {
			return err
		}
		return w.fail(ctx, err)
	}
	// What Postgres now holds, should the capture below fail for good.
	w.out.Amendment = &applied.Amendment
	if auth != nil {
		if err := w.capture(ctx, auth); err != nil {
			return err
		}
		// Recording the capture paid the invoice read before it.
		if inv := applied.Amendment.Invoice; inv != nil {
			inv.Status, inv.AmountDue = domain.InvoicePaid, 0
		}
	}
	w.settled = true
	if err := w.publishStatus(ctx); err != nil {
		return err
	}
	return w.notifyTimeline(ctx, applied.Rebased)
}

// payAndApply authorises the amendment's up-front payment, if it has one,
// and applies it in its turn, returning the authorisation it holds for it
// (nil for none). An apply refused because the timeline re-priced the
// payment while it waited (flow.PaymentChanged) releases the authorisation,
// takes one for the amount now due and applies again: the amount captured
// is the amount the applied amendment's invoice asks. A withdrawal taken
// while it authorises or releases ends it before the apply
// (errWithdrawnInTurn), and a payment that keeps changing fails it after
// maxPaymentRounds authorisations. A failed authorisation is an
// *authorisationFailure, returned with what it holds, if anything.
func (w *amendment) payAndApply(ctx workflow.Context, by flow.Actor) (flow.Applied, *heldPayment, error) {
	amount := w.paymentAmount()
	for round := 0; ; round++ {
		var auth *heldPayment
		if amount > 0 {
			var err error
			if auth, err = w.authorise(ctx, round, amount); err != nil {
				return flow.Applied{}, auth, &authorisationFailure{err: err}
			}
		}
		if w.withdraw != nil && workflow.GetVersion(ctx, changeRepricedPayment, workflow.DefaultVersion, 1) == 1 {
			// Taken while it was authorised: nothing is applied.
			return flow.Applied{}, auth, errWithdrawnInTurn
		}
		applied, err := w.applyInTurn(ctx, by, auth.amount())
		due, changed := paymentChanged(err)
		if !changed || workflow.GetVersion(ctx, changeRepricedPayment, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return applied, auth, err
		}
		if err := w.release(ctx, auth); err != nil {
			return applied, nil, err
		}
		if w.withdraw != nil {
			return applied, nil, errWithdrawnInTurn
		}
		if round+1 >= maxPaymentRounds {
			return applied, nil, faultError(domain.KindConflict, domain.FaultPaymentSystem,
				fmt.Sprintf("the up-front payment changed %d times while the amendment waited its turn", maxPaymentRounds))
		}
		amount = due
	}
}

// maxPaymentRounds bounds the authorisations of one amendment: each
// re-pricing of its payment while it waits its turn takes one more, and
// each needs a change before it on the timeline to have moved.
const maxPaymentRounds = 5

// authorisationFailure is an up-front payment that could not be authorised.
type authorisationFailure struct{ err error }

func (f *authorisationFailure) Error() string { return f.err.Error() }
func (f *authorisationFailure) Unwrap() error { return f.err }

// unauthorised ends an amendment whose up-front payment could not be
// authorised: failed, as the refusal says. An authorisation held although
// its step failed (its event was not recorded, or it holds another amount
// than asked) is released, and a failure that is not a refusal (the
// database) is handled as any step's (see apply): histories from before
// changeRepricedPayment did neither.
func (w *amendment) unauthorised(ctx workflow.Context, auth *heldPayment, err error) error {
	if businessKind(err) == "" || auth != nil {
		if workflow.GetVersion(ctx, changeRepricedPayment, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return w.fail(ctx, err)
		}
	}
	if err := w.release(ctx, auth); err != nil {
		return err
	}
	if businessKind(err) == "" {
		return err
	}
	return w.fail(ctx, err)
}

// paymentChanged reports an apply refused because its up-front payment is
// now due, which it returns.
func paymentChanged(err error) (int64, bool) {
	var appErr *temporal.ApplicationError
	var due int64
	if !errors.As(err, &appErr) || appErr.Type() != flow.PaymentChanged || appErr.Details(&due) != nil {
		return 0, false
	}
	return due, true
}

func (w *amendment) paymentAmount() int64 {
	if w.out.Amendment == nil {
		return 0
	}
	return w.out.Amendment.Quote.UpFrontPayment()
}

// heldPayment is an authorisation the amendment holds, and which of its
// authorisations it is: the first is 0, and each amount the timeline
// re-priced takes another (see payAndApply), with idempotency keys of its
// own.
type heldPayment struct {
	payments.Authorisation
	round int
}

// amount is what is held: 0 for no authorisation.
func (h *heldPayment) amount() int64 {
	if h == nil {
		return 0
	}
	return h.Amount
}

// payment is how the up-front payment moves: a provider outage at the
// authorisation is retried a few times (the caller waits for its answer);
// capture and void retry until the provider answers, since the money must
// end up in exactly one state.
func (w *amendment) payment(round int) payment {
	key := "amendment/" + w.in.AmendmentID
	if round > 0 {
		key += fmt.Sprintf("/repriced-%d", round)
	}
	return payment{
		key: key,
		authoriseRetry: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second, MaximumAttempts: 4,
		},
		captureRetry: untilDone(time.Second),
		voidRetry:    untilDone(time.Second),
	}
}

// authorise reserves the up-front payment. A provider outage is reported as
// a payment system fault once its retries are spent; a decline at once.
func (w *amendment) authorise(ctx workflow.Context, round int, amount int64) (*heldPayment, error) {
	auth, err := w.payment(round).authorise(ctx, payments.AuthoriseRequest{
		PaymentMethod: w.contract.PaymentMethod, Amount: amount, Currency: w.contract.Currency,
	})
	if err == nil {
		held := &heldPayment{Authorisation: auth, round: round}
		if err := w.recordPaymentEvent(ctx, flow.EventPaymentAuthorised, &auth, auth.ID); err != nil {
			return held, err
		}
		if auth.Amount != amount && workflow.GetVersion(ctx, changeRepricedPayment, workflow.DefaultVersion, 1) == 1 {
			// Capturing it would settle the invoice with another amount.
			return held, faultError(domain.KindConflict, domain.FaultPaymentSystem,
				fmt.Sprintf("the payment provider authorised %d, not the %d asked", auth.Amount, amount))
		}
		return held, nil
	}
	if reason, ok := declined(err); ok {
		return nil, faultError(domain.KindUnprocessable, domain.FaultPaymentAuthorisation, "the payment was declined: "+reason)
	}
	return nil, faultError(domain.KindConflict, domain.FaultPaymentSystem, "the payment provider could not be reached")
}

// capture takes the authorised payment and records it.
func (w *amendment) capture(ctx workflow.Context, auth *heldPayment) error {
	capture, err := w.payment(auth.round).capture(ctx, auth.ID, auth.Amount)
	if err != nil {
		return err
	}
	return w.recordPaymentEvent(ctx, flow.EventPaymentCaptured, &auth.Authorisation, capture.ID)
}

// release voids the authorised payment, if there is one, and records it.
func (w *amendment) release(ctx workflow.Context, auth *heldPayment) error {
	if auth == nil {
		return nil
	}
	void, err := w.payment(auth.round).void(ctx, auth.ID)
	if err != nil {
		return err
	}
	return w.recordPaymentEvent(ctx, flow.EventPaymentVoided, &auth.Authorisation, void.ID)
}

// recordPaymentEvent records a payment step in the amendment's history; a
// capture also settles the invoice the amendment raised.
func (w *amendment) recordPaymentEvent(ctx workflow.Context, event string, auth *payments.Authorisation, ref string) error {
	var a *activities.Amendments
	note := fmt.Sprintf("%s %d %s", ref, auth.Amount, auth.Currency)
	in := flow.EventInput{
		TenantID: w.in.TenantID, AmendmentID: w.in.AmendmentID, Event: event, ActorID: "payments", Source: "SYSTEM", Note: &note,
	}
	if event == flow.EventPaymentCaptured {
		in.Capture = &flow.CaptureRef{PaymentID: ref, Amount: auth.Amount}
	}
	return workflow.ExecuteLocalActivity(ctx, a.RecordAmendmentEvent, in).Get(ctx, nil)
}
