package api

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queued reports whether a request waits for a place at address: a
// weighted semaphore takes nothing, even nothing, past a waiter.
func (b *signedBodies) queued(address string) bool {
	b.mu.Lock()
	a := b.byAddress[address]
	b.mu.Unlock()
	return a != nil && !a.reading.TryAcquire(0)
}

// takeLater is take from a goroutine: its release, or its error, comes on
// the channel.
func takeLater(ctx context.Context, b *signedBodies, address string) <-chan func() {
	done := make(chan func(), 1)
	go func() {
		release, err := b.take(ctx, address, 1)
		if err != nil {
			release = nil
		}
		done <- release
	}()
	return done
}

// A request past its address's places waits for one, and the requests
// waiting take the places that come free in the order they came; another
// address does not wait behind them. Once nothing is read or waits,
// nothing of the address is kept.
func TestSignedBodiesWaitTheirTurnAtTheirAddress(t *testing.T) {
	b := newSignedBodies(2, 100, time.Minute) // a wait no test runs out
	const address, other = "192.0.2.1", "192.0.2.2"
	var held []func()
	for range 2 {
		release, err := b.take(t.Context(), address, 1)
		require.NoError(t, err)
		held = append(held, release)
	}

	first := takeLater(t.Context(), b, address)
	require.Eventually(t, func() bool { return b.queued(address) }, 10*time.Second, time.Millisecond)
	second := takeLater(t.Context(), b, address) // behind first, however soon it queues

	release, err := b.take(t.Context(), other, 1)
	require.NoError(t, err, "another address has its own places")
	release()

	held[0]()
	firstsPlace := <-first
	require.NotNil(t, firstsPlace, "the first waiting takes the place that came free")
	select {
	case <-second:
		t.Fatal("the second had a place while both were held")
	default:
	}
	held[1]()
	secondsPlace := <-second
	require.NotNil(t, secondsPlace, "the second takes the next")

	firstsPlace()
	secondsPlace()
	assert.Empty(t, b.byAddress, "nothing is kept of an address with nothing read")
}

// A request that finds no place within the wait is refused, 429 for its
// address's, 503 for all addresses'; one whose client hangs up while it
// waits is told so. None keeps a place.
func TestSignedBodiesRefusedAPlaceKeepNone(t *testing.T) {
	b := newSignedBodies(1, 3, time.Millisecond) // the refusals are what is tested, not the wait
	const address, other = "192.0.2.1", "192.0.2.2"
	release, err := b.take(t.Context(), address, 2)
	require.NoError(t, err)

	_, err = b.take(t.Context(), address, 1)
	assert.Equal(t, errAddressBodiesBusy, err, "the address's one place is held")
	_, err = b.take(t.Context(), other, 2)
	assert.Equal(t, errAllBodiesBusy, err, "2 of the 3 bytes are held")
	hungUp, hangUp := context.WithCancel(t.Context())
	hangUp()
	_, err = b.take(hungUp, other, 2)
	assert.ErrorIs(t, err, context.Canceled)

	otherRelease, err := b.take(t.Context(), other, 1)
	require.NoError(t, err, "the byte left is there to take")
	otherRelease()
	release()
	_, err = b.take(t.Context(), other, 3)
	require.NoError(t, err, "every byte was given back")
	assert.Len(t, b.byAddress, 1, "only the address reading is kept")
}
