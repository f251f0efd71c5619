package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contractd/contractd/api"
)

// BenchmarkTraceOverhead serves GET /healthz through the whole middleware
// chain with tracing off (no provider: the chain before traces existed)
// and on (a span a request, to an exporter that keeps nothing).
func BenchmarkTraceOverhead(b *testing.B) {
	for name, tp := range map[string]trace.TracerProvider{
		"off": nil,
		"on":  sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter())),
	} {
		b.Run(name, func(b *testing.B) {
			h := api.NewRouter(api.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tracing: tp})
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
