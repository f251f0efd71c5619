package api

import (
	"math"
	"net/http"
	"slices"
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

	mu         sync.Mutex
	byKey      map[string]*rate.Limiter
	checks     map[string]*checks // an address's checks under way and requests waiting (claim); none where none are
	lastSweep  time.Time
	lastTicket uint64
}

// checks are an address's credential checks under way that its bucket
// will be charged for if they fail (claim), the requests waiting for a
// place among them, by ticket in the order they first asked, and what
// those wait on: ended is closed, and made anew, as a check ends or the
// first in the queue leaves it.
type checks struct {
	n     int
	queue []uint64
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
// leave a token in its bucket, and no request that asked before it is
// still waiting; the check must then end with release. Places go in
// turn: a request that may not start yet is given a ticket, its place in
// the address's queue, and must come back with it to claim again or to
// withdraw. Woken together and raced by newcomers, a request could lose
// every time and be refused at the end of its wait though places had come
// free during it. A waiting request waits for ended to be closed (a check
// ends, or the first in the queue leaves it); the first also for wait,
// how long until the bucket has refilled enough for one more (none when
// it cannot: the checks under way are a burst). When no check is under
// way and the bucket is spent, the request is refused (and leaves the
// queue), wait saying how long until the bucket holds a token.
func (l *keyLimiters) claim(key string, ticket *uint64, now time.Time) (claimed bool, ended <-chan struct{}, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tokens := l.tokens(key, now)
	c := l.checks[key]
	if c == nil {
		c = &checks{}
		l.checks[key] = c
	}
	first := len(c.queue) == 0 || c.queue[0] == *ticket
	switch {
	case first && tokens-float64(c.n) >= 1:
		c.n++
		l.leaveQueue(key, c, ticket)
		return true, nil, 0
	case c.n == 0 && tokens < 1:
		l.leaveQueue(key, c, ticket)
		return false, nil, l.untilTokens(1 - tokens)
	}
	if *ticket == 0 {
		l.lastTicket++
		*ticket = l.lastTicket
		c.queue = append(c.queue, *ticket)
	}
	if c.ended == nil {
		c.ended = make(chan struct{})
	}
	if n := float64(c.n); first && n+1 <= float64(l.burst) {
		wait = l.untilTokens(n + 1 - tokens)
	}
	return false, c.ended, wait
}

// tokens is what key's bucket holds; the caller holds l.mu. A key without
// a bucket has a full one.
func (l *keyLimiters) tokens(key string, now time.Time) float64 {
	if b := l.bucket(key, now, false); b != nil {
		return b.TokensAt(now)
	}
	return float64(l.burst)
}

// untilTokens is how long a bucket takes to refill n tokens.
func (l *keyLimiters) untilTokens(n float64) time.Duration {
	return time.Duration(n / float64(l.limit) * float64(time.Second))
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
	c.n--
	c.wake()
	l.dropIdle(key, c)
}

// withdraw takes a request that stopped waiting (its wait ran out, its
// client hung up, its credential is now remembered) out of key's queue;
// a request not in it (ticket 0) is left be.
func (l *keyLimiters) withdraw(key string, ticket *uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.checks[key]; c != nil {
		l.leaveQueue(key, c, ticket)
	}
}

// leaveQueue takes ticket out of c, key's queue, if it is there, waking
// the rest when it was the first: the next may then go. The caller holds
// l.mu.
func (l *keyLimiters) leaveQueue(key string, c *checks, ticket *uint64) {
	if i := slices.Index(c.queue, *ticket); *ticket != 0 && i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
		if i == 0 {
			c.wake()
		}
	}
	*ticket = 0
	l.dropIdle(key, c)
}

// dropIdle forgets key's checks when none is under way and none waits.
// The caller holds l.mu.
func (l *keyLimiters) dropIdle(key string, c *checks) {
	if c.n == 0 && len(c.queue) == 0 {
		delete(l.checks, key)
	}
}

// wake wakes the requests waiting on c.
func (c *checks) wake() {
	if c.ended != nil {
		close(c.ended)
		c.ended = nil
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
