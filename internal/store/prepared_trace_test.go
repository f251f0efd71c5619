package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// Traced, a statement the service runs is still prepared once per
// connection, and each run of it is a span under the caller's.
func TestTracedStatementsStayPrepared(t *testing.T) {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	st, err := store.Open(ctx, testdb.Empty(t), store.WithTracing(tp))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	conn, err := st.DB().Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	// A statement with a parameter, the kind the connection prepares.
	const query = `SELECT $1::int * 2`
	parentCtx, parent := tp.Tracer("test").Start(ctx, "caller")
	spans.Reset()
	var doubled int
	for range 3 {
		require.NoError(t, conn.QueryRowContext(parentCtx, query, 21).Scan(&doubled))
		require.Equal(t, 42, doubled)
	}
	parent.End()
	var prepared int
	require.NoError(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, query).Scan(&prepared))
	require.Equal(t, 1, prepared, "three traced runs share one prepared statement")

	runs := 0
	for _, s := range spans.GetSpans() {
		if hasAttribute(s.Attributes, "db.query.text", query) {
			runs++
			require.Equal(t, parent.SpanContext().TraceID(), s.SpanContext.TraceID())
			require.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID(), "a statement's span is a child of its caller's")
		}
	}
	require.Equal(t, 3, runs, "one span for each run of the statement")
}

func hasAttribute(attrs []attribute.KeyValue, key, value string) bool {
	for _, a := range attrs {
		if string(a.Key) == key && a.Value.AsString() == value {
			return true
		}
	}
	return false
}
