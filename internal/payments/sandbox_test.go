package payments_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

type sandboxEnv struct {
	*payments.Sandbox
	store *store.Store
}

func newSandbox(t *testing.T) sandboxEnv {
	t.Helper()
	s := testdb.Migrated(t)
	return sandboxEnv{Sandbox: payments.NewSandbox(s.DB()), store: s}
}

func (e sandboxEnv) entries(t *testing.T, operation string) int {
	t.Helper()
	var n int
	require.NoError(t, e.store.DB().Get(&n, `SELECT count(*) FROM sandbox_ledger WHERE operation = $1`, operation))
	return n
}

func requireCode(t *testing.T, err error, code payments.Code) {
	t.Helper()
	var pe *payments.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, code, pe.Code, pe.Message)
}

func usd(method string, amount int64) payments.AuthoriseRequest {
	return payments.AuthoriseRequest{PaymentMethod: method, Amount: amount, Currency: "USD"}
}

func TestSandboxAuthoriseCaptureRefundAreIdempotent(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	auth, err := sb.Authorise(ctx, "k/auth", usd(payments.MethodOK, 1000))
	require.NoError(t, err)
	again, err := sb.Authorise(ctx, "k/auth", usd(payments.MethodOK, 1000))
	require.NoError(t, err)
	assert.Equal(t, auth, again)
	assert.Equal(t, 1, sb.entries(t, "AUTHORISE"))

	capture, err := sb.Capture(ctx, "k/capture", auth.ID, 1000)
	require.NoError(t, err)
	replayed, err := sb.Capture(ctx, "k/capture", auth.ID, 1000)
	require.NoError(t, err)
	assert.Equal(t, capture, replayed)
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))

	// Settled once: neither a second capture nor a void is taken.
	_, err = sb.Capture(ctx, "k/capture-2", auth.ID, 1000)
	requireCode(t, err, payments.CodeRejected)
	_, err = sb.Void(ctx, "k/void", auth.ID)
	requireCode(t, err, payments.CodeRejected)

	refund, err := sb.Refund(ctx, "k/refund-1", capture.ID, 300)
	require.NoError(t, err)
	assert.EqualValues(t, 300, refund.Amount)
	_, err = sb.Refund(ctx, "k/refund-2", capture.ID, 701)
	requireCode(t, err, payments.CodeRejected)
	_, err = sb.Refund(ctx, "k/refund-2", capture.ID, 700)
	require.NoError(t, err)
	_, err = sb.Refund(ctx, "k/refund-3", auth.ID, 1)
	requireCode(t, err, payments.CodeRejected)
	assert.Equal(t, 2, sb.entries(t, "REFUND"))
}

// A capture's first call is made in one statement when the authorisation
// takes it; every call it does not fit is refused as before, and a key
// already used answers only the request it was used for.
func TestSandboxCaptureTakesWhatTheAuthorisationHolds(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	auth, err := sb.Authorise(ctx, "p/auth", usd(payments.MethodOK, 1000))
	require.NoError(t, err)
	for _, amount := range []int64{0, -1, 1001} {
		_, err = sb.Capture(ctx, "p/capture-"+strconv.FormatInt(amount, 10), auth.ID, amount)
		requireCode(t, err, payments.CodeRejected)
	}
	_, err = sb.Capture(ctx, "p/auth", auth.ID, 300)
	requireCode(t, err, payments.CodeRejected) // the authorisation's own key
	assert.Zero(t, sb.entries(t, "CAPTURE"))

	partial, err := sb.Capture(ctx, "p/capture", auth.ID, 300)
	require.NoError(t, err)
	assert.EqualValues(t, 300, partial.Amount)
	assert.Equal(t, auth.ID, partial.AuthorisationID)
	_, err = sb.Capture(ctx, "p/capture", auth.ID, 700)
	requireCode(t, err, payments.CodeRejected) // the key, for another amount
	_, err = sb.Void(ctx, "p/capture", auth.ID)
	requireCode(t, err, payments.CodeRejected) // the key, for another operation
	_, err = sb.Capture(ctx, "p/capture-rest", auth.ID, 700)
	requireCode(t, err, payments.CodeRejected) // settled once: the rest is released
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
	assert.Zero(t, sb.entries(t, "VOID"))

	declined, err := sb.Authorise(ctx, "p/declined", usd(payments.MethodDeclined, 1000))
	requireCode(t, err, payments.CodeDeclined)
	assert.Empty(t, declined.ID)
	var declinedID string
	require.NoError(t, sb.store.DB().Get(&declinedID, `SELECT id FROM sandbox_ledger WHERE idempotency_key = 'p/declined'`))
	_, err = sb.Capture(ctx, "p/capture-declined", declinedID, 1000)
	requireCode(t, err, payments.CodeRejected)
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
}

func TestSandboxVoidReleasesAnAuthorisation(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	auth, err := sb.Authorise(ctx, "v/auth", usd(payments.MethodOK, 500))
	require.NoError(t, err)
	void, err := sb.Void(ctx, "v/void", auth.ID)
	require.NoError(t, err)
	assert.Equal(t, auth.ID, void.AuthorisationID)
	again, err := sb.Void(ctx, "v/void", auth.ID)
	require.NoError(t, err)
	assert.Equal(t, void, again)
	_, err = sb.Capture(ctx, "v/capture", auth.ID, 500)
	requireCode(t, err, payments.CodeRejected)
	_, err = sb.Capture(ctx, "v/capture", "not-a-payment", 500)
	requireCode(t, err, payments.CodeRejected)
	assert.Equal(t, 1, sb.entries(t, "VOID"))
	assert.Zero(t, sb.entries(t, "CAPTURE"))
}

func TestSandboxDeclinesAndRecordsTheDeclineOnce(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	for range 2 {
		_, err := sb.Authorise(ctx, "d/auth", usd(payments.MethodDeclined, 1000))
		requireCode(t, err, payments.CodeDeclined)
	}
	_, err := sb.Authorise(ctx, "d/unknown", usd("pm_mystery", 1000))
	requireCode(t, err, payments.CodeDeclined)
	assert.Equal(t, 2, sb.entries(t, "AUTHORISE"))
}

func TestSandboxRefusesAKeyReusedForAnotherRequest(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	_, err := sb.Authorise(ctx, "r/auth", usd(payments.MethodOK, 1000))
	require.NoError(t, err)
	_, err = sb.Authorise(ctx, "r/auth", usd(payments.MethodOK, 999))
	requireCode(t, err, payments.CodeRejected)
	_, err = sb.Authorise(ctx, "r/zero", usd(payments.MethodOK, 0))
	requireCode(t, err, payments.CodeRejected)
}

func TestSandboxOutages(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	for range 3 {
		_, err := sb.Authorise(ctx, "u/auth", usd(payments.MethodUnavailable, 1000))
		require.ErrorIs(t, err, payments.ErrUnavailable)
	}
	assert.Zero(t, sb.entries(t, "AUTHORISE"))

	// pm_flaky fails twice per key, for each call, then succeeds for good.
	var auth payments.Authorisation
	var errs []error
	for range 3 {
		var err error
		auth, err = sb.Authorise(ctx, "f/auth", usd(payments.MethodFlaky, 1000))
		errs = append(errs, err)
	}
	assert.Equal(t, []error{payments.ErrUnavailable, payments.ErrUnavailable, nil}, errs)
	for range 2 {
		_, err := sb.Capture(ctx, "f/capture", auth.ID, 1000)
		require.ErrorIs(t, err, payments.ErrUnavailable)
	}
	_, err := sb.Capture(ctx, "f/capture", auth.ID, 1000)
	require.NoError(t, err)
	_, err = sb.Authorise(ctx, "f/auth", usd(payments.MethodFlaky, 1000))
	require.NoError(t, err, "a key that got through stays through")
	assert.Equal(t, 1, sb.entries(t, "AUTHORISE"))
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
}

func TestSandboxSettlesAnAuthorisationOnceUnderConcurrency(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	auth, err := sb.Authorise(ctx, "c/auth", usd(payments.MethodOK, 1000))
	require.NoError(t, err)
	const callers = 8
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = sb.Capture(ctx, "c/capture-"+string(rune('a'+i)), auth.ID, 1000)
			} else {
				_, errs[i] = sb.Void(ctx, "c/void-"+string(rune('a'+i)), auth.ID)
			}
		})
	}
	wg.Wait()
	succeeded := 0
	for _, err := range errs {
		if err == nil {
			succeeded++
			continue
		}
		var pe *payments.Error
		require.True(t, errors.As(err, &pe), "unexpected error %v", err)
	}
	assert.Equal(t, 1, succeeded)
	assert.Equal(t, 1, sb.entries(t, "CAPTURE")+sb.entries(t, "VOID"))
}

func TestSandboxConcurrentRetriesOfOneCallShareItsResult(t *testing.T) {
	ctx, sb := context.Background(), newSandbox(t)
	const callers = 8
	auths := make([]payments.Authorisation, callers)
	captures := make([]payments.Capture, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { auths[i], errs[i] = sb.Authorise(ctx, "s/auth", usd(payments.MethodOK, 1000)) })
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, auths[0], auths[i])
	}
	for i := range callers {
		wg.Go(func() { captures[i], errs[i] = sb.Capture(ctx, "s/capture", auths[0].ID, 1000) })
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, captures[0], captures[i])
	}
	assert.Equal(t, 1, sb.entries(t, "AUTHORISE"))
	assert.Equal(t, 1, sb.entries(t, "CAPTURE"))
}

// BenchmarkSandboxCharge measures a charge as a billing run makes it: an
// authorisation and its capture, each under a key of its own.
func BenchmarkSandboxCharge(b *testing.B) {
	ctx, sb := b.Context(), payments.NewSandbox(testdb.Migrated(b).DB())
	for i := 0; b.Loop(); i++ {
		key := "bench/" + strconv.Itoa(i)
		auth, err := sb.Authorise(ctx, key+"/auth", usd(payments.MethodOK, 1000))
		require.NoError(b, err)
		_, err = sb.Capture(ctx, key+"/capture", auth.ID, 1000)
		require.NoError(b, err)
	}
}
