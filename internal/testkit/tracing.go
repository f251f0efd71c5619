package testkit

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/app"
)

// Option changes the environment New boots.
type Option func(*options)

type options struct {
	tracing trace.TracerProvider
}

// WithTracing boots the service traced on tp, as the commands do when an
// OTLP endpoint is set: the API, the Temporal client and worker, the store
// and the payment provider.
func WithTracing(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracing = tp }
}

// temporalClientFor is the shared client, or with tracing one of its own on
// the shared connection, closed when the test ends.
func temporalClientFor(t testing.TB, tracing trace.TracerProvider) client.Client {
	server, shared := Temporal(t)
	if tracing == nil {
		return shared
	}
	opts, err := app.ClientOptions(workerLogger, tracing)
	require.NoError(t, err)
	opts.Namespace = server.GetDefaultNamespace()
	c, err := client.NewClientFromExisting(shared, opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}
