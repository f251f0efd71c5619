package payments_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contractd/contractd/internal/payments"
)

// Each provider call is a client span under the caller's, and a refusal is
// the span's error with its code.
func TestTracedProviderSpansEachCall(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "activity")
	e := newSandbox(t)
	provider := payments.Traced(e.Sandbox, tp)

	auth, err := provider.Authorise(ctx, "k1", payments.AuthoriseRequest{PaymentMethod: payments.MethodOK, Amount: 1200, Currency: "USD"})
	require.NoError(t, err)
	_, err = provider.Capture(ctx, "k2", auth.ID, 1200)
	require.NoError(t, err)
	_, err = provider.Authorise(ctx, "k3", payments.AuthoriseRequest{PaymentMethod: payments.MethodDeclined, Amount: 1200, Currency: "USD"})
	requireCode(t, err, payments.CodeDeclined)
	parent.End()

	got := map[string]tracetest.SpanStub{}
	var names []string
	for _, s := range spans.GetSpans() {
		if s.Parent.SpanID() == parent.SpanContext().SpanID() {
			names = append(names, s.Name)
			got[s.Name] = s
		}
	}
	require.Equal(t, []string{"payments.Authorise", "payments.Capture", "payments.Authorise"}, names)
	require.Equal(t, trace.SpanKindClient, got["payments.Capture"].SpanKind)
	declined := got["payments.Authorise"]
	require.Equal(t, codes.Error, declined.Status.Code)
	require.Contains(t, declined.Attributes, attribute.String("payment.refusal", string(payments.CodeDeclined)))
}
