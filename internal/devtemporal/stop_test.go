package devtemporal

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freeFrontendPort finds a port whose derived ports are free too.
func freeFrontendPort(t *testing.T) int {
	port, err := FreeFrontendPort(24000)
	require.NoError(t, err)
	return port
}

// Stopping `dev` with Ctrl-C must not print the server's services
// complaining about each other going away, with stack traces: a developer
// reads that as a crash. The server logs to stderr, captured here.
func TestStopLogsNothing(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stderr := os.Stderr
	os.Stderr = w
	t.Cleanup(func() { os.Stderr = stderr })
	logged := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		logged <- b
	}()

	srv, err := Start(Options{StateDir: t.TempDir(), Namespace: "default", FrontendPort: freeFrontendPort(t)})
	require.NoError(t, err)
	_, _ = io.WriteString(w, "--- stopping ---\n")
	require.NoError(t, srv.Stop())
	os.Stderr = stderr
	require.NoError(t, w.Close())

	out := <-logged
	_, afterStop, found := bytes.Cut(out, []byte("--- stopping ---\n"))
	require.True(t, found, "%s", out)
	assert.NotContains(t, string(afterStop), "stacktrace")
	assert.Empty(t, string(bytes.TrimSpace(afterStop)))
}
