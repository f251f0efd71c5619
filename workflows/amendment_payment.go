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

// apply writes the change. A change paid up front (a crossgrade upgrade) is
// authorised first, captured once applied, and voided if it cannot be applied.
func (w *amendment) apply(ctx workflow.Context, by flow.Actor) error {
	var auth *payments.Authorisation
	if amount := w.paymentAmount(); amount > 0 {
		var err error
		if auth, err = w.authorise(ctx, amount); err != nil {
			return w.fail(ctx, err)
		}
	}
	applied, err := w.applyInTurn(ctx, by)
	if errors.Is(err, errWithdrawnInTurn) {
		// Withdrawn while it waited its turn: nothing was applied.
		if auth != nil {
			if voidErr := w.void(ctx, auth); voidErr != nil {
				return voidErr
			}
		}
		return w.transition(ctx, domain.StatusWithdrawn, *w.withdraw, nil)
	}
	if err != nil {
		gaveUp := permanentFailure(err) && w.endsOnPermanentFailure(ctx)
		if businessKind(err) == "" && !gaveUp {
			return err
		}
		if auth != nil {
			if voidErr := w.void(ctx, auth); voidErr != nil {
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

func (w *amendment) paymentAmount() int64 {
	if w.out.Amendment == nil || w.out.Amendment.Quote.Crossgrade == nil {
		return 0
	}
	return w.out.Amendment.Quote.Crossgrade.PaymentAmount
}

// payment is how the up-front payment moves: a provider outage at the
// authorisation is retried a few times (the caller waits for its answer);
// capture and void retry until the provider answers, since the money must
// end up in exactly one state.
func (w *amendment) payment() payment {
	return payment{
		key: "amendment/" + w.in.AmendmentID,
		authoriseRetry: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second, MaximumAttempts: 4,
		},
		captureRetry: untilDone(time.Second),
		voidRetry:    untilDone(time.Second),
	}
}

// authorise reserves the up-front payment. A provider outage is reported as
// a payment system fault once its retries are spent; a decline at once.
func (w *amendment) authorise(ctx workflow.Context, amount int64) (*payments.Authorisation, error) {
	auth, err := w.payment().authorise(ctx, payments.AuthoriseRequest{
		PaymentMethod: w.contract.PaymentMethod, Amount: amount, Currency: w.contract.Currency,
	})
	if err == nil {
		return &auth, w.recordPaymentEvent(ctx, flow.EventPaymentAuthorised, &auth, auth.ID)
	}
	if reason, ok := declined(err); ok {
		return nil, faultError(domain.KindUnprocessable, domain.FaultPaymentAuthorisation, "the payment was declined: "+reason)
	}
	return nil, faultError(domain.KindConflict, domain.FaultPaymentSystem, "the payment provider could not be reached")
}

// capture takes the authorised payment and records it.
func (w *amendment) capture(ctx workflow.Context, auth *payments.Authorisation) error {
	capture, err := w.payment().capture(ctx, auth.ID, auth.Amount)
	if err != nil {
		return err
	}
	return w.recordPaymentEvent(ctx, flow.EventPaymentCaptured, auth, capture.ID)
}

// void releases the authorised payment and records it.
func (w *amendment) void(ctx workflow.Context, auth *payments.Authorisation) error {
	void, err := w.payment().void(ctx, auth.ID)
	if err != nil {
		return err
	}
	return w.recordPaymentEvent(ctx, flow.EventPaymentVoided, auth, void.ID)
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
