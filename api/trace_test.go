package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contractd/contractd/internal/testkit"
)

// tracedEnv boots the service traced into an in-memory exporter.
func tracedEnv(t testing.TB) (*testkit.Env, *tracetest.InMemoryExporter) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	env := testkit.New(t, testkit.WithTracing(tp))
	env.Clock.Set(today)
	return env, spans
}

// One trace follows an immediate amendment from the HTTP request through
// the Temporal client, the workflow and its activities down to the SQL
// statements that write its rows.
func TestTraceFollowsAnAmendmentFromRequestToRow(t *testing.T) {
	env, spans := tracedEnv(t)
	ct := fiveSeats(env, nil)
	spans.Reset()
	resp := change(env, env.A.SubmitterKey, seats(ct["number"].(string), 10), "trace-id", "seed-trace-21")
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	var request tracetest.SpanStub
	var inTrace map[trace.SpanID]tracetest.SpanStub
	// The workflow's span ends with the workflow, after the answer.
	require.Eventually(t, func() bool {
		request, inTrace = requestTrace(spans.GetSpans(), "POST /api/selfService/contract")
		return firstNamed(inTrace, "RunWorkflow:") != nil
	}, 10*time.Second, 50*time.Millisecond, "the workflow's span joins the request's trace")

	require.Contains(t, request.Attributes, attribute.String("contractd.trace_id", "seed-trace-21"))
	client := firstNamed(inTrace, "UpdateWithStartWorkflow:")
	require.NotNil(t, client, "the Temporal client's span")
	require.True(t, descendsFrom(inTrace, *client, request.SpanContext.SpanID()), "the client span is under the request's")
	workflow := firstNamed(inTrace, "RunWorkflow:")
	require.True(t, descendsFrom(inTrace, *workflow, client.SpanContext.SpanID()), "the workflow span is under the client's")
	var activities, statements int
	for _, s := range inTrace {
		switch {
		case strings.HasPrefix(s.Name, "RunActivity:"):
			activities++
		case hasAttributeKey(s, "db.query.text") && descendsFromNamed(inTrace, s, "RunActivity:"):
			statements++
		}
	}
	require.Positive(t, activities, "the activities' spans are in the trace")
	require.Positive(t, statements, "the activities' SQL statements are in the trace")
}

// A caller's W3C traceparent is continued: the request's span, and the
// statements it runs, are in the caller's trace under the caller's span.
func TestTraceContinuesTheCallersTraceparent(t *testing.T) {
	env, spans := tracedEnv(t)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	resp := env.Do("GET", "/api/contracts", env.A.SubmitterKey, nil, "traceparent", "00-"+traceID+"-"+parentID+"-01")
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	request, inTrace := requestTrace(spans.GetSpans(), "GET /api/contracts")
	require.Equal(t, traceID, request.SpanContext.TraceID().String())
	require.Equal(t, parentID, request.Parent.SpanID().String())
	require.True(t, request.Parent.IsRemote())
	statements := 0
	for _, s := range inTrace {
		if hasAttributeKey(s, "db.query.text") {
			statements++
		}
	}
	require.Positive(t, statements, "the request's statements are in the caller's trace")
}

// A HEAD, served as the GET it stands for, is traced as the HEAD it was.
func TestTraceNamesAHEADAsSent(t *testing.T) {
	env, spans := tracedEnv(t)
	resp := env.Do("HEAD", "/api/contracts", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	request, _ := requestTrace(spans.GetSpans(), "HEAD /api/contracts")
	require.True(t, request.SpanContext.IsValid(), "a server span named HEAD /api/contracts")
	for _, a := range request.Attributes {
		if a.Key == "http.request.method" {
			assert.Equal(t, "HEAD", a.Value.AsString())
		}
	}
}

// requestTrace finds the server span named name and every span of its trace.
func requestTrace(spans tracetest.SpanStubs, name string) (tracetest.SpanStub, map[trace.SpanID]tracetest.SpanStub) {
	var request tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name && s.SpanKind == trace.SpanKindServer {
			request = s
		}
	}
	inTrace := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		if request.SpanContext.IsValid() && s.SpanContext.TraceID() == request.SpanContext.TraceID() {
			inTrace[s.SpanContext.SpanID()] = s
		}
	}
	return request, inTrace
}

func firstNamed(spans map[trace.SpanID]tracetest.SpanStub, prefix string) *tracetest.SpanStub {
	for _, s := range spans {
		if strings.HasPrefix(s.Name, prefix) {
			return &s
		}
	}
	return nil
}

// descendsFrom reports whether ancestor is s's parent, or its parent's, and so on.
func descendsFrom(spans map[trace.SpanID]tracetest.SpanStub, s tracetest.SpanStub, ancestor trace.SpanID) bool {
	for p, ok := s.Parent.SpanID(), true; ok; {
		if p == ancestor {
			return true
		}
		s, ok = spans[p]
		p = s.Parent.SpanID()
	}
	return false
}

// descendsFromNamed reports whether one of s's ancestors has a name starting with prefix.
func descendsFromNamed(spans map[trace.SpanID]tracetest.SpanStub, s tracetest.SpanStub, prefix string) bool {
	for {
		parent, ok := spans[s.Parent.SpanID()]
		if !ok {
			return false
		}
		if strings.HasPrefix(parent.Name, prefix) {
			return true
		}
		s = parent
	}
}

func hasAttributeKey(s tracetest.SpanStub, key string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return true
		}
	}
	return false
}
