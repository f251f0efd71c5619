package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/contractd/contractd/internal/auth"
)

// sharedLookups lets the requests presenting one credential at the same
// time share its lookup. A key just revoked, remembered at its address and
// so let past the address's spent budget (authFailures), and sent many
// times at once, was looked up once for each request, every one of them
// to be refused. A lookup runs while a request waits for it: one whose
// client hangs up stops waiting, and the lookup is cancelled once none
// waits. Only lookups under way are shared, never an answer once given: a
// key revoked is refused from the next lookup on.
type sharedLookups struct {
	mu    sync.Mutex
	under map[[sha256.Size]byte]*sharedLookup
}

// sharedLookup is one lookup under way, and the requests waiting for it.
type sharedLookup struct {
	done    chan struct{} // closed once p, secret and err are set
	p       auth.Principal
	secret  []byte
	err     error
	waiting int
	cancel  context.CancelFunc
}

func newSharedLookups() *sharedLookups {
	return &sharedLookups{under: map[[sha256.Size]byte]*sharedLookup{}}
}

// lookup is look's answer for credential (its kind and value): that of a
// lookup of it under way, or of one it starts, with ctx's values but not
// its end. It is ctx's error when ctx ends first.
func (l *sharedLookups) lookup(ctx context.Context, credential string, look func(context.Context) (auth.Principal, []byte, error)) (auth.Principal, []byte, error) {
	key := sha256.Sum256([]byte(credential))
	l.mu.Lock()
	c := l.under[key]
	if c == nil {
		lookCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &sharedLookup{done: make(chan struct{}), cancel: cancel}
		l.under[key] = c
		go l.run(lookCtx, key, c, look)
	}
	c.waiting++
	l.mu.Unlock()
	select {
	case <-c.done:
		return c.p, c.secret, c.err
	case <-ctx.Done():
		l.leave(key, c)
		return auth.Principal{}, nil, ctx.Err()
	}
}

// run looks up c's credential and hands the answer to those waiting; a
// panic is answered as an error, which the requests waiting are answered
// 503 for (it has no request's recovery to go to).
func (l *sharedLookups) run(ctx context.Context, key [sha256.Size]byte, c *sharedLookup, look func(context.Context) (auth.Principal, []byte, error)) {
	defer func() {
		if r := recover(); r != nil {
			c.err = fmt.Errorf("look up a credential: %v", r)
		}
		l.mu.Lock()
		l.forget(key, c)
		l.mu.Unlock()
		c.cancel()
		close(c.done)
	}()
	c.p, c.secret, c.err = look(ctx)
}

// leave is a request that stopped waiting for c: once none waits, the
// lookup is cancelled, and forgotten so that a request arriving after it
// starts its own.
func (l *sharedLookups) leave(key [sha256.Size]byte, c *sharedLookup) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.waiting--; c.waiting == 0 {
		c.cancel()
		l.forget(key, c)
	}
}

// forget stops sharing c; the caller holds l.mu.
func (l *sharedLookups) forget(key [sha256.Size]byte, c *sharedLookup) {
	if l.under[key] == c {
		delete(l.under, key)
	}
}
