package devtemporal

import (
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// stoppingLogger drops the server's log lines once Stop has begun. In an
// orderly shutdown the services lose their connections to each other in
// turn and log each loss as a warning or an error with a stack trace: noise,
// not news, on a developer's console. Panics and fatal errors still log.
type stoppingLogger struct {
	inner    log.Logger
	stopping *atomic.Bool
}

func newStoppingLogger(inner log.Logger) stoppingLogger {
	// One frame more than the caller's, so "logging-call-at" names the
	// server's code rather than this wrapper.
	if s, ok := inner.(log.SkipLogger); ok {
		inner = s.Skip(1)
	}
	return stoppingLogger{inner: inner, stopping: new(atomic.Bool)}
}

// stop silences this logger and every logger derived from it with With.
func (l stoppingLogger) stop() { l.stopping.Store(true) }

func (l stoppingLogger) Debug(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.inner.Debug(msg, tags...)
	}
}

func (l stoppingLogger) Info(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.inner.Info(msg, tags...)
	}
}

func (l stoppingLogger) Warn(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.inner.Warn(msg, tags...)
	}
}

func (l stoppingLogger) Error(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.inner.Error(msg, tags...)
	}
}

func (l stoppingLogger) DPanic(msg string, tags ...tag.Tag) { l.inner.DPanic(msg, tags...) }
func (l stoppingLogger) Panic(msg string, tags ...tag.Tag)  { l.inner.Panic(msg, tags...) }
func (l stoppingLogger) Fatal(msg string, tags ...tag.Tag)  { l.inner.Fatal(msg, tags...) }

// With keeps the shared stop switch on the derived logger.
func (l stoppingLogger) With(tags ...tag.Tag) log.Logger {
	return stoppingLogger{inner: log.With(l.inner, tags...), stopping: l.stopping}
}
