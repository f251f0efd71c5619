package api

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
)

// A lookup shared by requests runs while one of them waits: the request
// that started it hanging up cancels nothing while another waits, who
// gets its answer; once none waits it is cancelled, and nothing is kept.
func TestSharedLookupsRunWhileARequestWaits(t *testing.T) {
	l := newSharedLookups()
	const credential = "key\x00a"
	started, answer := make(chan context.Context, 1), make(chan struct{})
	look := func(ctx context.Context) (auth.Principal, []byte, error) {
		started <- ctx
		select {
		case <-answer:
			return auth.Principal{KeyID: "k"}, nil, nil
		case <-ctx.Done():
			return auth.Principal{}, nil, ctx.Err()
		}
	}
	waiting := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		if c := l.under[sha256.Sum256([]byte(credential))]; c != nil {
			return c.waiting
		}
		return 0
	}
	send := func(ctx context.Context, look func(context.Context) (auth.Principal, []byte, error)) <-chan error {
		done := make(chan error, 1)
		go func() {
			p, _, err := l.lookup(ctx, credential, look)
			if err == nil && p.KeyID != "k" {
				err = assert.AnError
			}
			done <- err
		}()
		return done
	}

	first, hangUp := context.WithCancel(t.Context())
	firstDone := send(first, look)
	running := <-started
	secondDone := send(t.Context(), look)
	require.Eventually(t, func() bool { return waiting() == 2 }, 10*time.Second, time.Millisecond, "the second shares the first's lookup")
	hangUp()
	require.ErrorIs(t, <-firstDone, context.Canceled)
	require.NoError(t, running.Err(), "the second still waits for it")
	close(answer)
	require.NoError(t, <-secondDone)

	alone, hangUpAlone := context.WithCancel(t.Context())
	aloneDone := send(alone, func(ctx context.Context) (auth.Principal, []byte, error) {
		started <- ctx
		<-ctx.Done()
		return auth.Principal{}, nil, ctx.Err()
	})
	running = <-started
	hangUpAlone()
	require.ErrorIs(t, <-aloneDone, context.Canceled)
	<-running.Done() // cancelled, none waiting
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Empty(t, l.under)
}
