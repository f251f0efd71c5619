package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
)

// Payments calls the payment provider, for amendments paid up front and for
// invoice collections alike.
type Payments struct {
	provider payments.Provider
}

// NewPayments builds the payment activities on provider.
func NewPayments(provider payments.Provider) *Payments {
	return &Payments{provider: provider}
}

// AuthorisePayment reserves an invoice's amount with the payment provider.
func (a *Payments) AuthorisePayment(ctx context.Context, in flow.AuthoriseInput) (payments.Authorisation, error) {
	auth, err := a.provider.Authorise(ctx, in.IdempotencyKey, in.Request)
	return auth, paymentError("authorise", err)
}

// CapturePayment takes an authorised amount.
func (a *Payments) CapturePayment(ctx context.Context, in flow.CaptureInput) (payments.Capture, error) {
	capture, err := a.provider.Capture(ctx, in.IdempotencyKey, in.AuthorisationID, in.Amount)
	return capture, paymentError("capture", err)
}

// VoidPayment releases an authorisation that will not be captured.
func (a *Payments) VoidPayment(ctx context.Context, in flow.VoidInput) (payments.Void, error) {
	void, err := a.provider.Void(ctx, in.IdempotencyKey, in.AuthorisationID)
	return void, paymentError("void", err)
}

// paymentError makes a provider's refusal a non-retryable application error
// typed by its code; other failures are transient and retried.
func paymentError(op string, err error) error {
	if err == nil {
		return nil
	}
	var refusal *payments.Error
	if errors.As(err, &refusal) {
		return temporal.NewNonRetryableApplicationError(refusal.Message, string(refusal.Code), err)
	}
	return fmt.Errorf("%s payment: %w", op, err)
}
