package app

import (
	"context"
	"errors"
	"log/slog"

	"go.temporal.io/api/serviceerror"
)

// canceledHeartbeatsQuiet logs at debug level the SDK's warning that an
// activity's heartbeat failed because its context was canceled. That is
// what stopping a worker does to a long-polling activity (the webhook
// dispatchers' PollWebhookEvents) whose last heartbeat the SDK still holds
// back in its batch: the SDK sends it once the worker stops, as the
// activity returns and its context ends, and warned on every Ctrl-C of
// `dev`. Any other heartbeat failure (the server unreachable, the activity
// gone) stays a warning.
type canceledHeartbeatsQuiet struct{ slog.Handler }

// heartbeatFailed is the SDK's message for a heartbeat it could not record
// (go.temporal.io/sdk internal_task_handlers.go), and sdkErrorKey the
// attribute its error rides in.
const (
	heartbeatFailed = "RecordActivityHeartbeat with error"
	sdkErrorKey     = "Error"
)

func (h canceledHeartbeatsQuiet) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && r.Message == heartbeatFailed && errorIsCanceled(r) {
		if !h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h canceledHeartbeatsQuiet) WithAttrs(attrs []slog.Attr) slog.Handler {
	return canceledHeartbeatsQuiet{h.Handler.WithAttrs(attrs)}
}

func (h canceledHeartbeatsQuiet) WithGroup(name string) slog.Handler {
	return canceledHeartbeatsQuiet{h.Handler.WithGroup(name)}
}

func errorIsCanceled(r slog.Record) bool {
	canceled := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == sdkErrorKey {
			// The gRPC call's own cancellation comes back as the
			// service's Canceled error, not as context.Canceled.
			var rpc *serviceerror.Canceled
			canceled = errors.Is(err, context.Canceled) || errors.As(err, &rpc)
			return false
		}
		return true
	})
	return canceled
}
