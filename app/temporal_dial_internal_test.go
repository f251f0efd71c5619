package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/devtemporal"
	"github.com/contractd/contractd/internal/metrics"
)

// A process started before its Temporal server answers waits for it rather
// than exiting: the fault suite's api, started beside a server whose
// frontend was still "not healthy yet", exited and never became ready.
func TestAProcessWaitsForTemporalToStart(t *testing.T) {
	port, err := devtemporal.FreeFrontendPort(31000)
	require.NoError(t, err)
	started := make(chan error, 1)
	go func() {
		time.Sleep(2 * temporalDialRetry) // the first dials find nothing listening
		srv, err := devtemporal.Start(devtemporal.Options{StateDir: t.TempDir(), Namespace: "default", FrontendPort: port, LogLevel: "error"})
		if err == nil {
			t.Cleanup(func() { _ = srv.Stop() })
		}
		started <- err
	}()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := dialTemporal(t.Context(), net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "default", false, "", logger, metrics.NewRegistry(), nil)
	require.NoError(t, <-started)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.CheckHealth(t.Context(), nil)
	assert.NoError(t, err)
}

// Waiting ends with the process's context: a stop while Temporal is away
// is not held for temporalDialPatience.
func TestAStopEndsTheWaitForTemporal(t *testing.T) {
	port, err := devtemporal.FreeFrontendPort(31100)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(2*temporalDialRetry, cancel)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err = dialTemporal(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "default", false, "", logger, metrics.NewRegistry(), nil)
	assert.ErrorIs(t, err, context.Canceled)
}
