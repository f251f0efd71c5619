package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/semaphore"
)

// MaxSignedBodiesPerAddress is how many signed requests' bodies one client
// address may have being read, before their signatures are checked, at
// once: an integrator posting that many signed changes in parallel has
// them all read together, and more wait their turn (signedBodies).
const MaxSignedBodiesPerAddress = 8

// MaxUnverifiedSignedBytes is how many bytes of signed requests' bodies
// all addresses together may have being read, before their signatures are
// checked, at once: 64 of the largest (MaxBodyBytes), thousands of
// ordinary ones.
const MaxUnverifiedSignedBytes = 64 << 20

// signedBodyWait is the longest a signed request waits for its turn to
// have its body read (see signedBodies.take); a body of the size the API
// takes is usually read in milliseconds.
const signedBodyWait = time.Second

// signedBodies bounds the bodies of signed requests being read before
// their signature is checked: memory that a client which has not
// authenticated decides on. A signing key's id travels in the clear, so
// whoever has seen one can have requests naming it read, each body up to
// MaxBodyBytes and for up to BodyReadTimeout; one address opening many
// connections had a MiB buffered for each. Each address may have
// perAddress bodies read at once, and all of them totalBytes (a body
// counts its declared length). A request past either waits its turn, in
// the order the requests came (semaphore.Weighted serves its waiters
// first come, first served), for wait at most, and is then refused:
// 429 when its address has too many being read, 503 when all addresses
// together do. Once a body's signature is checked the body is an
// authenticated key's, held to its rate, and its place is given back.
type signedBodies struct {
	perAddress int64
	total      *semaphore.Weighted
	wait       time.Duration

	mu        sync.Mutex
	byAddress map[string]*addressBodies
}

// addressBodies is one address's signed bodies being read.
type addressBodies struct {
	reading *semaphore.Weighted
	// users are the requests reading a body or waiting to: the address is
	// forgotten once there are none, so memory is bounded by the addresses
	// sending signed bodies at the moment.
	users int
}

// newSignedBodies lets each address have perAddress bodies read at once,
// and all of them totalBytes, a request waiting its turn for wait at most.
func newSignedBodies(perAddress, totalBytes int64, wait time.Duration) *signedBodies {
	return &signedBodies{
		perAddress: perAddress,
		total:      semaphore.NewWeighted(totalBytes),
		wait:       wait,
		byAddress:  map[string]*addressBodies{},
	}
}

// bodiesBusy refuses a signed request before its body is read: status 429
// when its address has its most bodies being read, 503 when all addresses
// together have.
type bodiesBusy struct {
	status  int
	message string
}

func (b *bodiesBusy) Error() string { return b.message }

var (
	errAddressBodiesBusy = &bodiesBusy{http.StatusTooManyRequests, fmt.Sprintf(
		"too many signed request bodies being received from this address at once (at most %d); send fewer in parallel, or retry after the seconds in Retry-After",
		MaxSignedBodiesPerAddress)}
	errAllBodiesBusy = &bodiesBusy{http.StatusServiceUnavailable,
		"the service is receiving too many signed request bodies right now; retry after the seconds in Retry-After"}
)

// take gives a body of size bytes from address a place among the signed
// bodies being read, waiting its turn (b.wait at most); release gives it
// back. The error is errAddressBodiesBusy or errAllBodiesBusy when the
// wait ran out, ctx's when ctx ended first (the client hung up).
func (b *signedBodies) take(ctx context.Context, address string, size int64) (release func(), err error) {
	wait, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	a := b.join(address)
	leave := func() {
		a.reading.Release(1)
		b.leave(address, a)
	}
	if err := a.reading.Acquire(wait, 1); err != nil {
		b.leave(address, a)
		return nil, waitEnded(ctx, errAddressBodiesBusy)
	}
	if err := b.total.Acquire(wait, size); err != nil {
		leave()
		return nil, waitEnded(ctx, errAllBodiesBusy)
	}
	return func() {
		b.total.Release(size)
		leave()
	}, nil
}

// waitEnded is why a wait for a place ended without one: ctx's error when
// ctx ended, busy when the wait ran out.
func waitEnded(ctx context.Context, busy error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return busy
}

// join counts a request in at address, making the address's places when
// it has none.
func (b *signedBodies) join(address string) *addressBodies {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.byAddress[address]
	if a == nil {
		a = &addressBodies{reading: semaphore.NewWeighted(b.perAddress)}
		b.byAddress[address] = a
	}
	a.users++
	return a
}

// leave counts a request out at address, forgetting the address once no
// request there reads or waits.
func (b *signedBodies) leave(address string, a *addressBodies) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a.users--; a.users == 0 {
		delete(b.byAddress, address)
	}
}

// signedBodySize is what a signed request's body counts for while it is
// read: its declared length, MaxBodyBytes when it declared none (it is
// sent in chunks), and nothing when it has no body (a GET).
func signedBodySize(r *http.Request) int64 {
	if r.ContentLength < 0 {
		return MaxBodyBytes
	}
	return r.ContentLength
}

// refuseBusyBodies answers a signed request refused a place to have its
// body read (bodiesBusy), in the surface's format: it may retry in a
// second, by when bodies of the size the API takes have usually been read.
func (s *server) refuseBusyBodies(c *gin.Context, sf surface, busy *bodiesBusy) {
	if busy.status == http.StatusTooManyRequests {
		s.rateLimited.WithLabelValues(budgetSignedBodies).Inc()
	}
	c.Header("Retry-After", "1")
	reject(c, sf, busy.status, busy.message)
}
