package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/payments"
)

// quickRetry retries as a charge does, without the waiting.
var quickRetry = payments.ChargeRetry{
	Call: payments.Retry{Attempts: 6, Initial: time.Millisecond, Max: time.Millisecond},
	Void: payments.Retry{Attempts: 3, Initial: time.Millisecond, Max: time.Millisecond},
}

// down makes the sandbox's captures, and voids when voidsToo, fail as if
// the provider did not answer.
type down struct {
	payments.Provider
	captures, voidsToo bool
}

func (d down) Capture(ctx context.Context, key, authorisationID string, amount int64) (payments.Capture, error) {
	if d.captures {
		return payments.Capture{}, payments.ErrUnavailable
	}
	return d.Provider.Capture(ctx, key, authorisationID, amount)
}

func (d down) Void(ctx context.Context, key, authorisationID string) (payments.Void, error) {
	if d.voidsToo {
		return payments.Void{}, payments.ErrUnavailable
	}
	return d.Provider.Void(ctx, key, authorisationID)
}

func TestChargeCapturesOnceHoweverOftenItIsRepeated(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	first, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodOK, 1200), quickRetry)
	require.NoError(t, err)
	assert.Equal(t, int64(1200), first.Amount)
	again, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodOK, 1200), quickRetry)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a repeated charge replays the first")
	assert.Equal(t, 1, sb.entries(t, "AUTHORISE"))
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
}

func TestChargeOfARefusedCardIsDeclined(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	_, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodDeclined, 1200), quickRetry)
	requireCode(t, err, payments.CodeDeclined)
	assert.Equal(t, 0, sb.entries(t, "CAPTURE"))
}

func TestChargeRetriesAProviderThatFailsThenAnswers(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	capture, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodFlaky, 700), quickRetry)
	require.NoError(t, err)
	assert.Equal(t, int64(700), capture.Amount)
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
}

func TestChargeGivesUpOnAProviderThatNeverAnswers(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	_, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodUnavailable, 700), quickRetry)
	require.ErrorIs(t, err, payments.ErrUnavailable)
	assert.NotErrorIs(t, err, payments.ErrUnsettled, "nothing was authorised")
	assert.Equal(t, 0, sb.entries(t, "AUTHORISE"))
}

// A capture that cannot be made voids its authorisation, and a repeat of
// the charge (a batch retried after a crash) takes nothing.
func TestChargeVoidsAnAuthorisationItCannotCapture(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	_, err := payments.Charge(ctx, down{Provider: sb, captures: true}, "invoice/1/attempt/0", usd(payments.MethodOK, 900), quickRetry)
	require.ErrorIs(t, err, payments.ErrUnavailable)
	assert.Equal(t, 1, sb.entries(t, "VOID"))

	_, err = payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodOK, 900), quickRetry)
	requireCode(t, err, payments.CodeRejected)
	assert.Equal(t, 0, sb.entries(t, "CAPTURE"), "a voided authorisation is never captured")
	assert.Equal(t, 1, sb.entries(t, "VOID"))
}

func TestChargeThatCouldNotVoidIsUnsettled(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	_, err := payments.Charge(ctx, down{Provider: sb, captures: true, voidsToo: true}, "invoice/1/attempt/0", usd(payments.MethodOK, 900), quickRetry)
	require.ErrorIs(t, err, payments.ErrUnsettled)

	// Repeated once the provider answers, the charge settles it.
	capture, err := payments.Charge(ctx, sb, "invoice/1/attempt/0", usd(payments.MethodOK, 900), quickRetry)
	require.NoError(t, err)
	assert.Equal(t, int64(900), capture.Amount)
	assert.Equal(t, 1, sb.entries(t, "AUTHORISE"))
	assert.Equal(t, 0, sb.entries(t, "VOID"))
}
