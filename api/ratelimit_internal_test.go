package api

import (
	"testing"
	"time"

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
