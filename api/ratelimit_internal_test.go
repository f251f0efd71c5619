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
		ok, _ := l.allow("k1", now)
		require.True(t, ok, "request %d of the burst", i+1)
	}
	ok, wait := l.allow("k1", now)
	assert.False(t, ok)
	assert.Equal(t, 100*time.Millisecond, wait)
	// A refusal costs nothing: one token later there is exactly one request.
	ok, _ = l.allow("k1", now.Add(100*time.Millisecond))
	assert.True(t, ok)
	ok, _ = l.allow("k1", now.Add(100*time.Millisecond))
	assert.False(t, ok)

	ok, _ = l.allow("k2", now)
	assert.True(t, ok, "another key has its own bucket")
}

func TestRateLimitEvictsIdleKeys(t *testing.T) {
	l := newKeyLimiters(10)
	start := time.Unix(1_800_000_000, 0)
	for _, key := range []string{"a", "b", "c"} {
		l.allow(key, start)
	}
	require.Len(t, l.byKey, 3)
	// Two seconds refill a 20-token bucket at 10/s: idle keys are dropped
	// then, the active one is kept.
	l.allow("a", start.Add(time.Second))
	l.allow("a", start.Add(2*time.Second))
	assert.Len(t, l.byKey, 1)
	assert.Contains(t, l.byKey, "a")
}

func TestRateLimitZeroIsOff(t *testing.T) {
	assert.Nil(t, newKeyLimiters(0))
	assert.Nil(t, newKeyLimiters(rate.Inf))
	assert.True(t, (&server{}).withinRate(nil, "k", nil))
}
