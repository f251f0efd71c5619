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

// keyLimiters gives every key a token bucket of its own: an API key's id
// (its request budget, Deps.RateLimit), so one busy or runaway client cannot
// starve the others, or a client's address (its budget of failed
// authentications, Deps.AuthFailureRate; see authFailures).
type keyLimiters struct {
	limit rate.Limit
	burst int
	// idle is how often full buckets are dropped: a full bucket is
	// indistinguishable from a new one, so dropping it loses nothing and
	// keeps memory bounded by the keys that took tokens within about the
	// time a bucket takes to refill (burst/limit).
	idle time.Duration

	mu        sync.Mutex
	byKey     map[string]*rate.Limiter
	lastSweep time.Time
}

// newKeyLimiters allows limit tokens a second per key with bursts of twice
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
		byKey: map[string]*rate.Limiter{},
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
// how long until there will be, and takes none.
func (l *keyLimiters) allow(key string, n int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucket(key, now, true).ReserveN(now, n)
	if wait := r.DelayFrom(now); wait > 0 {
		// A refused request must not use up the token it was refused for.
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// available reports whether key's bucket holds a token, without taking it;
// when it does not, it says how long until it will. A key without a bucket
// has a full one.
func (l *keyLimiters) available(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now, false)
	if b == nil {
		return true, 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// spend takes a token from key's bucket even when it holds none: the bucket
// then owes it, and refills that much later. A cost already incurred (a
// failed authentication, checked against the database) is always charged.
func (l *keyLimiters) spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, now, true).ReserveN(now, 1)
}

// bucket is key's bucket, made full when key has none and create is set
// (nil otherwise). Full buckets are swept out every idle. The caller holds
// l.mu, until it is done with the bucket: a sweep must not drop a bucket
// that is about to lose a token.
func (l *keyLimiters) bucket(key string, now time.Time, create bool) *rate.Limiter {
	if now.Sub(l.lastSweep) >= l.idle {
		for k, b := range l.byKey {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.byKey, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.byKey[key]
	if !ok && create {
		b = rate.NewLimiter(l.limit, l.burst)
		l.byKey[key] = b
	}
	return b
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
		s.rateLimited.WithLabelValues(budgetAPIKey).Inc()
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		reject(c, sf, http.StatusTooManyRequests, "too many requests with this API key; retry after the seconds in Retry-After")
	}
	return ok
}
