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
	checks    map[string]*checks // an address's checks under way (claim); none where none are
	lastSweep time.Time
}

// checks are an address's credential checks under way that its bucket
// will be charged for if they fail (claim), and what a request waiting for
// one of them to end waits on: ended is closed, and made anew, as each
// ends.
type checks struct {
	n     int
	ended chan struct{}
}

// newKeyLimiters allows limit tokens a second per key with bursts of twice
// that; a limit of zero or less, or rate.Inf, turns limiting off (nil).
func newKeyLimiters(limit rate.Limit) *keyLimiters {
	if limit <= 0 || limit == rate.Inf {
		return nil
	}
	burst := max(1, int(math.Ceil(2*float64(limit))))
	return &keyLimiters{
		limit:  limit,
		burst:  burst,
		idle:   time.Duration(float64(burst) / float64(limit) * float64(time.Second)),
		byKey:  map[string]*rate.Limiter{},
		checks: map[string]*checks{},
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

// claim lets a check of a credential from address key start (claimed)
// while the checks already under way, should all of them fail, would
// leave a token in its bucket; the check must then end with release. When
// it may not start and checks are under way, ended is closed as one of
// them ends, and wait says how long until the bucket has refilled enough
// for one more (none when it cannot: the checks under way are a burst);
// when none are, the bucket is spent and wait says how long until it holds
// a token. A key without a bucket has a full one.
func (l *keyLimiters) claim(key string, now time.Time) (claimed bool, ended <-chan struct{}, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tokens := float64(l.burst)
	if b := l.bucket(key, now, false); b != nil {
		tokens = b.TokensAt(now)
	}
	c := l.checks[key]
	switch {
	case c == nil && tokens >= 1:
		l.checks[key] = &checks{n: 1}
		return true, nil, 0
	case c == nil:
		return false, nil, time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
	case tokens-float64(c.n) >= 1:
		c.n++
		return true, nil, 0
	}
	if c.ended == nil {
		c.ended = make(chan struct{})
	}
	if n := float64(c.n); n+1 <= float64(l.burst) {
		wait = time.Duration((n + 1 - tokens) / float64(l.limit) * float64(time.Second))
	}
	return false, c.ended, wait
}

// release ends a check claim let start, taking a token from key's bucket
// when it failed (as spend), and wakes the requests waiting for it.
func (l *keyLimiters) release(key string, failed bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failed {
		l.bucket(key, now, true).ReserveN(now, 1)
	}
	c := l.checks[key]
	if c.ended != nil {
		close(c.ended)
		c.ended = nil
	}
	if c.n--; c.n == 0 {
		delete(l.checks, key)
	}
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
