package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
)

// payment moves one amount through the provider: authorised, then captured
// or voided. Amendments paid up front and invoice collections both pay this
// way; each says how hard every step is retried (authorise and capture may
// give up, and what giving up means is the caller's; a void or an
// amendment's capture must happen). Each step is an activity whose
// idempotency key is key plus the step's name, so a replayed or retried step
// moves money once.
type payment struct {
	key            string
	authoriseRetry *temporal.RetryPolicy
	captureRetry   *temporal.RetryPolicy
	voidRetry      *temporal.RetryPolicy
}

// providerCallTimeout bounds one call to the payment provider.
const providerCallTimeout = 30 * time.Second

// call runs one provider step as an activity retried by retry.
func call[T any](ctx workflow.Context, retry *temporal.RetryPolicy, activity, in any) (T, error) {
	var out T
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: providerCallTimeout, RetryPolicy: retry})
	err := workflow.ExecuteActivity(actx, activity, in).Get(ctx, &out)
	return out, err
}

// authorise reserves req's amount.
func (p payment) authorise(ctx workflow.Context, req payments.AuthoriseRequest) (payments.Authorisation, error) {
	var a *activities.Payments
	return call[payments.Authorisation](ctx, p.authoriseRetry, a.AuthorisePayment, flow.AuthoriseInput{
		IdempotencyKey: p.key + "/authorise", Request: req,
	})
}

// capture takes amount of an authorisation.
func (p payment) capture(ctx workflow.Context, authID string, amount int64) (payments.Capture, error) {
	var a *activities.Payments
	return call[payments.Capture](ctx, p.captureRetry, a.CapturePayment, flow.CaptureInput{
		IdempotencyKey: p.key + "/capture", AuthorisationID: authID, Amount: amount,
	})
}

// void releases an authorisation that will not be captured.
func (p payment) void(ctx workflow.Context, authID string) (payments.Void, error) {
	var a *activities.Payments
	return call[payments.Void](ctx, p.voidRetry, a.VoidPayment, flow.VoidInput{
		IdempotencyKey: p.key + "/void", AuthorisationID: authID,
	})
}

// declined returns the provider's message when err is its refusal of the
// payment method (the activities make every refusal non-retryable).
func declined(err error) (string, bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == string(payments.CodeDeclined) {
		return appErr.Message(), true
	}
	return "", false
}

// untilDone retries a step that must happen until it does.
func untilDone(initial time.Duration) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: initial, BackoffCoefficient: 2, MaximumInterval: time.Minute}
}
