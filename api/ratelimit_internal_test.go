package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestRateLimitBurstIsTwiceTheRatePerKey(t *testing.T) {
	l := newKeyLimiters(10)
	now := time.Unix(1_800_000_000, 0)
	for i := range 20 {
		ok, _ := l.allow("k1", 1, now)
		require.True(t, ok, "request %d of the burst", i+1)
	}
	ok, wait := l.allow("k1", 1, now)
	assert.False(t, ok)
	assert.Equal(t, 100*time.Millisecond, wait)
	// A refusal costs nothing: one token later there is exactly one request.
	ok, _ = l.allow("k1", 1, now.Add(100*time.Millisecond))
	assert.True(t, ok)
	ok, _ = l.allow("k1", 1, now.Add(100*time.Millisecond))
	assert.False(t, ok)

	ok, _ = l.allow("k2", 1, now)
	assert.True(t, ok, "another key has its own bucket")
}

func TestRateLimitEvictsIdleKeys(t *testing.T) {
	l := newKeyLimiters(10)
	start := time.Unix(1_800_000_000, 0)
	for _, key := range []string{"a", "b", "c"} {
		l.allow(key, 1, start)
	}
	require.Len(t, l.byKey, 3)
	// Two seconds refill a 20-token bucket at 10/s: idle keys are dropped
	// then, the active one is kept.
	l.allow("a", 1, start.Add(time.Second))
	l.allow("a", 1, start.Add(2*time.Second))
	assert.Len(t, l.byKey, 1)
	assert.Contains(t, l.byKey, "a")
}

func TestRateLimitZeroIsOff(t *testing.T) {
	assert.Nil(t, newKeyLimiters(0))
	assert.Nil(t, newKeyLimiters(rate.Inf))
	assert.True(t, (&server{}).withinRate(nil, "k", MaxBodyBytes, nil))
}

func TestRateLimitChargesABodyBySize(t *testing.T) {
	l := newKeyLimiters(50) // bursts of 100
	for size, cost := range map[int64]int{0: 1, 100: 1, bodyBytesPerToken - 1: 1, bodyBytesPerToken: 2, MaxBodyBytes: 17} {
		assert.Equal(t, cost, l.requestCost(size), "a body of %d bytes", size)
	}
	// However low the rate, the largest body fits a full bucket.
	assert.Equal(t, 2, newKeyLimiters(1).requestCost(MaxBodyBytes))
}

// admitNow is f.admit for a test whose request has nothing to wait for.
func admitNow(t *testing.T, f *authFailures, a *attempt, now time.Time) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := f.admit(t.Context(), a, now)
	require.NoError(t, err)
	return ok, wait
}

func TestAuthFailuresSpendOnlyRefusals(t *testing.T) {
	f := newAuthFailures(5) // bursts of 10
	now := time.Unix(1_800_000_000, 0)
	guess := attempt{address: "192.0.2.1"}
	for i := range 10 {
		ok, _ := admitNow(t, f, &guess, now)
		require.True(t, ok, "failure %d of the burst", i+1)
		f.settle(guess, refusal("the API key is not valid"), false, now)
	}
	ok, wait := admitNow(t, f, &guess, now)
	assert.False(t, ok)
	assert.Equal(t, 200*time.Millisecond, wait)
	ok, _ = admitNow(t, f, &guess, now.Add(200*time.Millisecond))
	assert.True(t, ok, "a token later, one more")

	other := attempt{address: "192.0.2.2"}
	for range 20 {
		f.settle(other, nil, false, now)                              // authenticated
		f.settle(other, errors.New("connection refused"), false, now) // the database did not answer
	}
	ok, _ = admitNow(t, f, &other, now)
	assert.True(t, ok, "neither a success nor the service's own failure spends anything")

	// A client that hangs up while its key is looked up made the lookup
	// happen all the same (a probe's 3,000 such requests got 164 lookups
	// past the budget, each logged as the service's failure).
	left := attempt{address: "192.0.2.3"}
	for range 10 {
		f.settle(left, errors.New("context canceled"), true, now)
	}
	ok, _ = admitNow(t, f, &left, now)
	assert.False(t, ok, "a lookup its client left is charged")

	// A remembered credential refused as its client hangs up is forgotten
	// all the same.
	known := attempt{address: "192.0.2.4", credential: [32]byte{4}, presents: true}
	f.settle(known, nil, false, now)
	f.settle(known, refusal("revoked"), true, now)
	assert.NotContains(t, f.known, known.credential)
}

// An address's checks under way are as many at most as the tokens its
// bucket would have left should they all fail; a request past them waits
// for one to end, and nothing is kept of them once they have.
func TestAuthFailuresCheckNoMoreAtOnceThanTheBudgetHasLeft(t *testing.T) {
	f := newAuthFailures(5) // bursts of 10
	now := time.Unix(1_800_000_000, 0)
	under := make([]attempt, 10)
	for i := range under {
		under[i] = attempt{address: "192.0.2.1"}
		ok, _ := admitNow(t, f, &under[i], now)
		require.True(t, ok, "check %d of the burst", i+1)
	}
	next := attempt{address: "192.0.2.1"}
	ok, ended, _ := f.try(&next, now)
	require.False(t, ok)
	require.NotNil(t, ended, "it waits for one under way")

	f.settle(under[0], refusal("no"), false, now)
	<-ended
	ok, ended, _ = f.try(&next, now)
	require.False(t, ok, "nine tokens left, nine checks under way")
	f.settle(under[1], nil, false, now) // authenticated: it spends nothing
	<-ended
	ok, _, _ = f.try(&next, now)
	require.True(t, ok)

	for _, a := range append(under[2:], next) {
		f.settle(a, refusal("no"), false, now)
	}
	assert.Empty(t, f.byAddress.checks)
	ok, wait := admitNow(t, f, &attempt{address: "192.0.2.1"}, now)
	assert.False(t, ok)
	assert.Equal(t, 200*time.Millisecond, wait)
}

// A request waiting behind its address's checks under way goes ahead once
// the budget has refilled past them, though none has ended: waking only
// as one ended, it was refused when they were slow (a signed request's
// body) however full the bucket had grown meanwhile.
func TestAuthFailuresWaitForTheBudgetToRefillPastTheChecks(t *testing.T) {
	f := newAuthFailures(5) // bursts of 10, a token each 200ms
	now := time.Unix(1_800_000_000, 0)
	for range 5 {
		f.byAddress.spend("192.0.2.1", now)
	}
	for i := range 5 {
		ok, _ := admitNow(t, f, &attempt{address: "192.0.2.1"}, now)
		require.True(t, ok, "check %d of the five tokens left", i+1)
	}
	next := attempt{address: "192.0.2.1"}
	ok, ended, wait := f.try(&next, now)
	require.False(t, ok)
	require.NotNil(t, ended)
	assert.Equal(t, 200*time.Millisecond, wait, "a sixth token")
	ok, _, err := f.admit(t.Context(), &next, now)
	require.NoError(t, err)
	assert.True(t, ok, "admitted as the token came, no check having ended")
}

// A request waiting for its address's check finds its credential
// remembered once that check succeeds (a new key's first requests, sent
// together); one whose client hangs up stops waiting.
func TestAuthFailuresWaitForTheChecksUnderWay(t *testing.T) {
	f := newAuthFailures(0.1) // a burst of one
	now := time.Unix(1_800_000_000, 0)
	key := func() attempt { return attempt{address: "192.0.2.1", credential: [32]byte{1}, presents: true} }
	first := key()
	ok, _ := admitNow(t, f, &first, now)
	require.True(t, ok)

	ctx, hangUp := context.WithCancel(t.Context())
	hangUp()
	gone := key()
	_, _, err := f.admit(ctx, &gone, now)
	assert.ErrorIs(t, err, context.Canceled)

	second := key()
	admitted := make(chan bool)
	go func() {
		ok, _, _ := f.admit(t.Context(), &second, now)
		admitted <- ok
	}()
	f.settle(first, nil, false, now)
	assert.True(t, <-admitted)
	assert.False(t, second.claimed, "checked as a remembered credential")
	assert.Empty(t, f.byAddress.checks)
}

// The places among an address's checks go in turn: a request waiting for
// one takes the first that comes free, and one arriving after it waits
// behind it, though the place is free as it arrives. Woken together, and
// raced by newcomers, a waiting request could lose every time and be
// refused at the end of its wait though places had come free during it.
// A request that stopped waiting (its client hung up) holds up nobody.
func TestAuthFailuresHandPlacesToTheRequestsWaitingInTurn(t *testing.T) {
	f := newAuthFailures(0.1) // a burst of one: one place
	now := time.Unix(1_800_000_000, 0)
	key := func() attempt { return attempt{address: "192.0.2.1"} }
	first, gone, waiting, late := key(), key(), key(), key()
	ok, _ := admitNow(t, f, &first, now)
	require.True(t, ok)
	ctx, hangUp := context.WithCancel(t.Context())
	hangUp()
	_, _, err := f.admit(ctx, &gone, now)
	require.ErrorIs(t, err, context.Canceled)
	ok, ended, _ := f.try(&waiting, now)
	require.False(t, ok)

	f.settle(first, nil, false, now) // authenticated: the place is free, the token still there
	<-ended
	ok, lateEnded, _ := f.try(&late, now)
	require.False(t, ok, "a request arriving after the one waiting goes after it")
	ok, _, _ = f.try(&waiting, now)
	require.True(t, ok, "the request waiting takes the place that came free")

	f.settle(waiting, nil, false, now)
	<-lateEnded
	ok, _, _ = f.try(&late, now)
	assert.True(t, ok, "then the next")
	f.settle(late, nil, false, now)
	assert.Empty(t, f.byAddress.checks)
}

// Only so many credentials are remembered: one key used from many
// addresses is remembered once for each.
func TestAuthFailuresRememberABoundedNumberOfCredentials(t *testing.T) {
	f := newAuthFailures(5)
	now := time.Unix(1_800_000_000, 0)
	for i := range maxKnown + 10 {
		f.settle(attempt{address: strconv.Itoa(i), credential: [32]byte{byte(i), byte(i >> 8), byte(i >> 16)}, presents: true}, nil, false, now)
	}
	assert.Len(t, f.known, maxKnown)
}

// Failures that were all let through together are all charged: the bucket
// owes what it did not have, and refills that much later.
func TestAuthFailuresChargeConcurrentRefusalsBeyondTheBucket(t *testing.T) {
	f := newAuthFailures(5)
	now := time.Unix(1_800_000_000, 0)
	a := attempt{address: "192.0.2.1"}
	for range 12 {
		f.settle(a, refusal("no"), false, now)
	}
	ok, wait := admitNow(t, f, &a, now)
	assert.False(t, ok)
	assert.Equal(t, 600*time.Millisecond, wait)
}

func TestAuthFailuresLetARecentCredentialPastASpentAddress(t *testing.T) {
	f := newAuthFailures(0.1) // a burst of one
	now := time.Unix(1_800_000_000, 0)
	known := attempt{address: "192.0.2.1", credential: [32]byte{1}, presents: true}
	f.settle(known, nil, false, now)
	f.settle(attempt{address: "192.0.2.1"}, refusal("no"), false, now)

	ok, _ := admitNow(t, f, &known, now)
	assert.True(t, ok, "a credential that authenticated")
	ok, _ = admitNow(t, f, &attempt{address: "192.0.2.1", credential: [32]byte{2}, presents: true}, now)
	assert.False(t, ok, "one that did not")
	ok, _ = admitNow(t, f, &attempt{address: "192.0.2.1"}, now)
	assert.False(t, ok, "none")
	later := now.Add(credentialMemory)
	f.settle(attempt{address: "192.0.2.1"}, refusal("no"), false, later)
	ok, _ = admitNow(t, f, &known, later)
	assert.False(t, ok, "remembered for credentialMemory only")

	f.settle(known, nil, false, now)
	f.settle(known, refusal("revoked"), false, now)
	ok, _ = admitNow(t, f, &known, now)
	assert.False(t, ok, "forgotten once refused")
}

// Memory is bounded: an address's bucket goes once it is full again, a
// credential once credentialMemory has passed.
func TestAuthFailuresForgetIdleAddressesAndCredentials(t *testing.T) {
	f := newAuthFailures(5)
	start := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		f.settle(attempt{address: "192.0.2." + strconv.Itoa(i)}, refusal("no"), false, start)
		f.settle(attempt{credential: [32]byte{byte(i)}, presents: true}, nil, false, start)
	}
	require.Len(t, f.byAddress.byKey, 100)
	require.Len(t, f.known, 100)
	// Two seconds refill the buckets; the next failure sweeps them out.
	f.settle(attempt{address: "198.51.100.1"}, refusal("no"), false, start.Add(2*time.Second))
	assert.Len(t, f.byAddress.byKey, 1)
	f.settle(attempt{credential: [32]byte{200}, presents: true}, nil, false, start.Add(credentialMemory))
	assert.Len(t, f.known, 1)
}

func TestAuthFailuresZeroIsOff(t *testing.T) {
	assert.Nil(t, newAuthFailures(0))
	s := &server{}
	assert.True(t, s.withinAuthBudget(nil, &attempt{}, nil))
	s.settleAuth(nil, attempt{}, refusal("no"))
}

func TestClientAddressIsAnIPv6ClientsSlash64(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for remote, want := range map[string]string{
		"192.0.2.7:1234":              "192.0.2.7",
		"[::ffff:192.0.2.7]:1234":     "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:1234": "2001:db8:1:2::/64",
		"not an address":              "",
	} {
		c, engine := gin.CreateTestContext(httptest.NewRecorder())
		trustProxies(engine, nil)
		c.Request = httptest.NewRequest("GET", "/", nil)
		c.Request.RemoteAddr = remote
		c.Request.Header.Set("X-Forwarded-For", "198.51.100.1")
		assert.Equal(t, want, clientAddress(c), remote)
	}
}
