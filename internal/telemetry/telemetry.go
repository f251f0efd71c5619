// Package telemetry sets up the process's OpenTelemetry tracing: a tracer
// provider exporting over OTLP when the standard OTEL_EXPORTER_OTLP_*
// variables name a collector, and none at all otherwise, so that a process
// nobody traces runs exactly the code it ran before tracing existed. The
// layers instrument themselves with the maintained integrations (otelgin in
// api, otelsql in store, Temporal's interceptor here) only when handed a
// provider.
package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Propagator reads and writes W3C trace context and baggage: the
// `traceparent` a caller sends is continued, and the same headers carry the
// trace through Temporal to workflows and activities.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Tracing is the process's tracer provider and how to stop it. Its Provider
// is nil when tracing is off.
type Tracing struct {
	Provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Shutdown exports the spans still buffered and stops the exporter; it does
// nothing when tracing is off.
func (t Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// Enabled reports whether the environment asks for traces: an OTLP endpoint
// is set (for every signal or for traces alone) and the SDK is not disabled.
func Enabled() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv starts tracing as the OTEL_* environment says (see Enabled):
// spans batched and exported over OTLP/gRPC, with the exporter's, the batch
// processor's and the sampler's own variables honoured by the SDK.
// serviceName is the default service.name; OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override it.
func FromEnv(ctx context.Context, serviceName string) (Tracing, error) {
	if !Enabled() {
		return Tracing{}, nil
	}
	if err := checkProtocol(); err != nil {
		return Tracing{}, err
	}
	exporter, err := otlptracegrpc.New(ctx)
	if err != nil {
		return Tracing{}, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// Later detectors win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override the default service name.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithHost(),
		resource.WithAttributes(semconv.ServiceName(serviceName)), resource.WithFromEnv())
	if err != nil {
		return Tracing{}, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return Tracing{Provider: tp, shutdown: tp.Shutdown}, nil
}

// checkProtocol refuses an OTLP protocol other than gRPC, the one exporter
// built in: sending gRPC to a collector's HTTP port would fail silently.
func checkProtocol() error {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(name); p != "" {
			if p != "grpc" {
				return fmt.Errorf("%s=%q: contractd exports traces over OTLP/gRPC only (set it to grpc, or unset it)", name, p)
			}
			return nil
		}
	}
	return nil
}

// TemporalInterceptor is Temporal's OpenTelemetry tracing interceptor on tp.
// Set on a client's options, it traces what the client sends (starts,
// Updates, signals, queries) and, in every worker built on that client,
// workflows, their Update handlers and activities, carrying the trace in
// Temporal headers with Propagator.
func TemporalInterceptor(tp trace.TracerProvider) (interceptor.Interceptor, error) {
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            tp.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: Propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return i, nil
}
