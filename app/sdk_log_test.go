package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"go.temporal.io/api/serviceerror"
	sdklog "go.temporal.io/sdk/log"

	"github.com/stretchr/testify/assert"
)

// A heartbeat the SDK could not send because its activity's context ended
// (a worker stopping) is no warning; any other failed heartbeat, and any
// other warning, still is.
func TestACanceledHeartbeatIsNoWarning(t *testing.T) {
	var out bytes.Buffer
	logger := sdklog.NewStructuredLogger(slog.New(canceledHeartbeatsQuiet{slog.NewTextHandler(&out, nil)}).With("component", "temporal-sdk"))
	logger = sdklog.With(logger, "ActivityType", "PollWebhookEvents")

	logger.Warn(heartbeatFailed, "Error", fmt.Errorf("rpc: %w", context.Canceled))
	logger.Warn(heartbeatFailed, "Error", serviceerror.NewCanceled("context canceled"))
	assert.Empty(t, out.String())

	logger.Warn(heartbeatFailed, "Error", errors.New("connection refused"))
	assert.Contains(t, out.String(), "level=WARN")
	assert.Contains(t, out.String(), "connection refused")
	out.Reset()
	logger.Warn("something else", "Error", context.Canceled)
	assert.Contains(t, out.String(), "level=WARN")
}
