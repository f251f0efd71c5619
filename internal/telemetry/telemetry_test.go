package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/contractd/contractd/internal/telemetry"
)

// Without an OTLP endpoint there is no tracer provider at all, so nothing
// is instrumented.
func TestTracesOffWithoutAnEndpoint(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no endpoint":  {},
		"SDK disabled": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SDK_DISABLED": "true"},
	} {
		t.Run(name, func(t *testing.T) {
			setEnv(t, env)
			tracing, err := telemetry.FromEnv(context.Background(), "contractd-test")
			require.NoError(t, err)
			require.Nil(t, tracing.Provider)
			require.NoError(t, tracing.Shutdown(context.Background()))
		})
	}
}

// Either endpoint variable turns traces on.
func TestTracesOnWithAnEndpoint(t *testing.T) {
	for _, variable := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Run(variable, func(t *testing.T) {
			setEnv(t, map[string]string{variable: "http://127.0.0.1:4317"})
			tracing, err := telemetry.FromEnv(context.Background(), "contractd-test")
			require.NoError(t, err)
			tp, ok := tracing.Provider.(*sdktrace.TracerProvider)
			require.True(t, ok, "an SDK tracer provider")
			_, span := tp.Tracer("test").Start(context.Background(), "probe")
			require.True(t, span.SpanContext().IsValid())
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			// The span was never ended: nothing to send to the absent collector.
			require.NoError(t, tracing.Shutdown(ctx))
		})
	}
}

// An OTLP protocol the exporter cannot speak is refused, not sent to the
// wrong port.
func TestTracesRefuseAProtocolOtherThanGRPC(t *testing.T) {
	setEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
	_, err := telemetry.FromEnv(context.Background(), "contractd-test")
	require.ErrorContains(t, err, "OTLP/gRPC only")
}

// setEnv clears the variables FromEnv reads, then sets env, for one test.
func setEnv(t *testing.T, env map[string]string) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		t.Setenv(name, env[name])
	}
}
