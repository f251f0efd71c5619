package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/internal/auth"
)

// authFailures is each client address's budget of failed authentications
// (Deps.AuthFailureRate): a request refused with 401 (no key, an unknown or
// revoked key, a bad signature) takes a token from its address's bucket;
// one that authenticates takes none. While an address's bucket is empty,
// its requests are answered 429 before their credential is looked up, so
// guessing keys, or a client stuck on a revoked one, costs the database
// nothing past the budget. A check is charged once it has failed, so the
// checks under way from an address are held to the tokens it has left
// (admit): failures arriving together cost no more lookups than that.
//
// The one exception keeps a client from being locked out by a noisy
// neighbour at its address (behind the same NAT or proxy): a request
// presenting a credential (a key, or a signing key's id) that authenticated
// within credentialMemory from the same address is looked up as usual. Only
// a client holding a valid credential gets one; should the credential then
// be refused from that address (the key was revoked, the signature is
// wrong) it is forgotten there at once, so it buys at most one lookup for
// each time it authenticated. It is remembered by address: a signing key's
// id travels in the clear, and a stranger elsewhere refused with it must
// not make its holder wait (a probe locked a signed client out that way).
type authFailures struct {
	byAddress *keyLimiters

	mu        sync.Mutex
	known     map[[sha256.Size]byte]time.Time // a credential's and its address's digest: when it last authenticated from there
	lastSweep time.Time
}

// credentialMemory is how long a credential that authenticated is let past
// its address's spent budget.
const credentialMemory = 15 * time.Minute

// maxKnown bounds the credentials remembered (about 100 bytes each): only
// credentials that authenticated are, but one key used from many addresses
// (an IPv6 client has many /64s) is remembered once for each. Past the
// bound a credential is not remembered, and waits with the rest when its
// address's budget is spent, until a sweep makes room.
const maxKnown = 100_000

// newAuthFailures allows limit failed authentications a second per address
// with bursts of twice that; zero turns the budget off (nil).
func newAuthFailures(limit rate.Limit) *authFailures {
	l := newKeyLimiters(limit)
	if l == nil {
		return nil
	}
	return &authFailures{byAddress: l, known: map[[sha256.Size]byte]time.Time{}}
}

// attempt is what the budget knows of a request before its credential is
// checked: where it comes from and what it presents there.
type attempt struct {
	address    string
	credential [sha256.Size]byte
	presents   bool
	// claimed is set once admit let its check start as one its address
	// will be charged for if it fails (keyLimiters.claim): settle releases it.
	claimed bool
	// ticket is its place in its address's queue while admit waits for a
	// place among the address's checks (keyLimiters.claim).
	ticket uint64
}

// attemptOf is the request's attempt: its client's address (clientAddress)
// and a digest of the credential it presents, if any (one key, or a signing
// key's id), with that address. A request presenting two keys has none: it
// is refused anyway.
func attemptOf(c *gin.Context) attempt {
	a := attempt{address: clientAddress(c)}
	if id := c.GetHeader(keyIDHeader); id != "" {
		a.credential, a.presents = sha256.Sum256([]byte("id\x00"+id+"\x00"+a.address)), true
	} else if key, err := presentedKey(c.Request); err == nil && key != "" {
		a.credential, a.presents = sha256.Sum256([]byte("key\x00"+key+"\x00"+a.address)), true
	}
	return a
}

// clientAddress is the address a request's failures are counted against:
// its client's IP address as gin's ClientIP has it (the peer's, or, from a
// trusted proxy, the one the proxy forwards; see NewRouter), an IPv6
// address's /64, which is what one subscriber is usually given.
func clientAddress(c *gin.Context) string {
	ip := c.ClientIP()
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// checkWait is the longest a request waits for its address's checks under
// way (see admit); a check takes milliseconds, unless the database is slow
// (a signed request's body is read after its place is given up: lookedUp).
const checkWait = time.Second

// admit reports whether a's credential may be checked now, and when it may
// not, how long until its address has a token again. A remembered
// credential may. Any other may while the checks of its address's
// credentials under way, should all of them fail, would leave a token in
// its budget; failures arriving together are so checked no more at once
// than the tokens left, and the rest are refused once they are spent.
// Meanwhile it waits for one of those checks to end, or for its budget to
// refill past them, and looks again; the requests waiting take the places
// that come free in the order they came (keyLimiters.claim). A new key's
// first requests sent together (a load generator's clients starting) wait
// for its first check, which remembers it, rather than being refused. It
// waits checkWait at most (then it is refused, for that long, and leaves
// its place in the queue), or until ctx ends (its client hung up: ctx's
// error). It looks first at now, and again as much later as it waited.
func (f *authFailures) admit(ctx context.Context, a *attempt, now time.Time) (bool, time.Duration, error) {
	ok, ended, wait := f.try(a, now)
	if ended == nil {
		return ok, wait, nil
	}
	defer f.byAddress.withdraw(a.address, &a.ticket)
	start := time.Now()
	timeout := time.NewTimer(checkWait)
	defer timeout.Stop()
	refill := time.NewTimer(0)
	defer refill.Stop()
	for ended != nil {
		var refilled <-chan time.Time
		if wait > 0 {
			refill.Reset(wait)
			refilled = refill.C
		}
		select {
		case <-ended:
		case <-refilled:
		case <-timeout.C:
			return false, checkWait, nil
		case <-ctx.Done():
			return false, 0, ctx.Err()
		}
		ok, ended, wait = f.try(a, now.Add(time.Since(start)))
	}
	return ok, wait, nil
}

// try is one look of admit's: whether a's credential may be checked now,
// or what to wait for, a check of its address ending (ended), or when
// refused, a token (wait).
func (f *authFailures) try(a *attempt, now time.Time) (ok bool, ended <-chan struct{}, wait time.Duration) {
	if a.presents && f.remembered(a.credential, now) {
		f.byAddress.withdraw(a.address, &a.ticket)
		return true, nil, 0
	}
	a.claimed, ended, wait = f.byAddress.claim(a.address, &a.ticket, now)
	return a.claimed, ended, wait
}

// remembered reports whether credential (with its address) authenticated
// within credentialMemory.
func (f *authFailures) remembered(credential [sha256.Size]byte, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	last, known := f.known[credential]
	return known && now.Sub(last) < credentialMemory
}

// settle records how a's check ended (err from server.caller): a refusal
// takes a token from its address and forgets its credential there, a
// success remembers the credential there. A check the client's own doing
// ended otherwise (clientsFault: it hung up, or a signed request's body,
// read after its key was looked up, was malformed, too large or late) is
// charged like a refusal: it cost a lookup, so it must not be a way round
// the budget. Any other error (the database did not answer, a signed
// body found no place to be read: signedBodies) is not a failure to
// authenticate and counts for nothing. A check admit claimed is
// released, after the credential is remembered: the requests waiting for
// it then find it so; one released earlier (lookedUp) is charged with
// spend.
func (f *authFailures) settle(a attempt, err error, clientsFault bool, now time.Time) {
	var refused refusal
	isRefused := errors.As(err, &refused)
	switch {
	case err == nil && a.presents:
		f.remember(a.credential, now)
	case isRefused && a.presents:
		f.mu.Lock()
		delete(f.known, a.credential)
		f.mu.Unlock()
	}
	failed := isRefused || (err != nil && clientsFault)
	switch {
	case a.claimed:
		f.byAddress.release(a.address, failed, now)
	case failed:
		f.byAddress.spend(a.address, now)
	}
}

// remember records that credential (with its address) authenticated now,
// unless maxKnown are remembered; every credentialMemory, it forgets those
// that have not since.
func (f *authFailures) remember(credential [sha256.Size]byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.lastSweep) >= credentialMemory {
		for k, last := range f.known {
			if now.Sub(last) >= credentialMemory {
				delete(f.known, k)
			}
		}
		f.lastSweep = now
	}
	if len(f.known) < maxKnown {
		f.known[credential] = now
	}
}

// withinAuthBudget reports whether a request (a) may have its credential
// checked, having answered 429 with Retry-After (whole seconds, rounded up)
// in the surface's format when its address's budget of failed
// authentications is spent, or its wait for the address's checks under way
// ran out (admit); one whose client hung up while it waited is answered
// 499, and costs nothing: nothing was looked up.
func (s *server) withinAuthBudget(c *gin.Context, a *attempt, sf surface) bool {
	if s.authFailures == nil {
		return true
	}
	ok, wait, err := s.authFailures.admit(c.Request.Context(), a, time.Now())
	switch {
	case err != nil:
		reject(c, sf, statusClientClosedRequest, "the client closed the request")
	case !ok:
		s.refuseForFailures(c, sf, wait)
	}
	return ok
}

// refuseForFailures answers 429: the request's address has spent its
// budget of failed authentications, for wait.
func (s *server) refuseForFailures(c *gin.Context, sf surface, wait time.Duration) {
	s.rateLimited.WithLabelValues(budgetAuthFailures).Inc()
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	reject(c, sf, http.StatusTooManyRequests, "too many failed authentications from this address; retry after the seconds in Retry-After")
}

// errCheckUnfinished is how a check that panicked is settled: for nothing,
// releasing what admit claimed for it.
var errCheckUnfinished = errors.New("the credential's check did not finish")

// checkCredential is the request's caller (server.caller), its check
// settled (settleAuth) however it ends. A signed request's place among its
// address's checks is given up once its key is found (lookedUp), before
// its body is read.
func (s *server) checkCredential(c *gin.Context, a attempt) (p auth.Principal, err error) {
	err = errCheckUnfinished
	defer func() { s.settleAuth(c, a, err) }()
	return s.caller(c, func() {
		if s.authFailures != nil {
			s.authFailures.lookedUp(&a, time.Now())
		}
	})
}

// lookedUp gives up the place admit claimed for a's check once its
// credential was found, uncharged, while the check goes on: a signed
// request's body is read only then, so that a key id that does not exist
// (made up, revoked) is refused without it, and a slow body (up to
// BodyReadTimeout) holds no place its address's other clients (one NAT)
// would wait a second for and be refused. Should the check then fail (the
// body cannot be read, the signature does not match, the request is a
// replay), settle charges it with spend: the bucket may owe tokens, and
// the address is refused for longer.
func (f *authFailures) lookedUp(a *attempt, now time.Time) {
	if a.claimed {
		f.byAddress.release(a.address, false, now)
		a.claimed = false
	}
}

// settleAuth records how a request's authentication ended (see settle).
func (s *server) settleAuth(c *gin.Context, a attempt, err error) {
	if s.authFailures != nil {
		_, _, unreadable := bodyReadProblem(err)
		s.authFailures.settle(a, err, unreadable || clientGone(c), time.Now())
	}
}

// clientGone reports whether the request's client hung up.
func clientGone(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}
