package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// keyLimiters gives every API key a token bucket of its own, so one busy or
// runaway client cannot starve the others.
type keyLimiters struct {
	limit rate.Limit
	burst int
	// idle is how long a bucket takes to refill completely. A bucket unused
	// for that long is indistinguishable from a new one, so dropping it loses
	// nothing and keeps memory bounded by the keys active recently.
	idle time.Duration

	mu        sync.Mutex
	byKey     map[string]*keyLimiter
	lastSweep time.Time
}

type keyLimiter struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

// newKeyLimiters allows limit requests a second per key with bursts of twice
// that; a limit of zero or less, or rate.Inf, turns limiting off (nil).
func newKeyLimiters(limit rate.Limit) *keyLimiters {
	if limit <= 0 || limit == rate.Inf {
		return nil
	}
	burst := max(1, int(math.Ceil(2*float64(limit))))
	return &keyLimiters{
		limit: limit,
		burst: burst,
		idle:  time.Duration(float64(burst) / float64(limit) * float64(time.Second)),
		byKey: map[string]*keyLimiter{},
	}
}

// bodyBytesPerToken is how much of a body one token pays for, beyond the
// first token every request takes: checking a body costs time in proportion
// to its size (checkBody spends about 80 ms on a MiB of unknown keys), so a
// key sending the largest bodies must not get as many through as one
// sending small ones.
const bodyBytesPerToken = 64 << 10

// requestCost is the tokens a request with a body of size bytes takes: one,
// and one for each whole bodyBytesPerToken of its body, up to the burst so
// that any request can pass once the bucket is full.
func (l *keyLimiters) requestCost(size int64) int {
	return int(min(1+size/bodyBytesPerToken, int64(l.burst)))
}

// allow takes n tokens from key's bucket; when there are not so many it says
// how long until there will be.
func (l *keyLimiters) allow(key string, n int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.sweep(now)
	}
	k, ok := l.byKey[key]
	if !ok {
		k = &keyLimiter{limiter: rate.NewLimiter(l.limit, l.burst)}
		l.byKey[key] = k
	}
	k.lastSeen = now
	r := k.limiter.ReserveN(now, n)
	if wait := r.DelayFrom(now); wait > 0 {
		// A refused request must not use up the token it was refused for.
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

func (l *keyLimiters) sweep(now time.Time) {
	for key, k := range l.byKey {
		if now.Sub(k.lastSeen) >= l.idle {
			delete(l.byKey, key)
		}
	}
	l.lastSweep = now
}

// withinRate reports whether the caller's key may make this request, whose
// body has size bytes, having answered 429 with Retry-After (whole seconds,
// rounded up) when it may not.
func (s *server) withinRate(c *gin.Context, keyID string, size int64, sf surface) bool {
	if s.limits == nil {
		return true
	}
	ok, wait := s.limits.allow(keyID, s.limits.requestCost(size), time.Now())
	if !ok {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		reject(c, sf, http.StatusTooManyRequests, "too many requests with this API key; retry after the seconds in Retry-After")
	}
	return ok
}
