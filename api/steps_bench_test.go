package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkAnImmediateChangesSteps shows where an immediate change's time
// goes, one request at a time, from the spans of its trace (the service
// traced into memory, on the tests' embedded Temporal): the median of each
// step, in ms, as metrics of the benchmark:
//
//   - before: from the request to its Update-with-Start (the key's lookup,
//     the contract's read, pricing);
//   - temporal: from there to the worker's handling of the Update (Temporal
//     starting the workflow and handing its task to the worker);
//   - open: the local activity that records and applies the change, and
//     sql, the part of it spent in its statements (BEGIN and COMMIT too);
//   - statements: how many statements it runs, BEGIN and COMMIT not counted
//     (the changes alternate between a charge and a credit);
//   - after: from the Update's answer to the request's end (the answer's
//     contract read and encoded);
//   - total: the request.
//
// go test ./api -run XXX -bench BenchmarkAnImmediateChangesSteps -benchtime 200x
func BenchmarkAnImmediateChangesSteps(b *testing.B) {
	env, spans := tracedEnv(b)
	// Changes go to ten contracts in turn, so that the answer's contract
	// does not grow to hundreds of segments, as loadgen's do not.
	numbers := make([]string, 10)
	for i := range numbers {
		numbers[i] = fiveSeats(env, nil)["number"].(string)
	}
	n := 0
	changeSeats := func() {
		n++ // seats 6 to 10 and back to 6: four invoices, then a credit
		if resp := change(env, env.A.SubmitterKey, seats(numbers[n%len(numbers)], 6+n/len(numbers)%5)); resp.Status != http.StatusOK {
			b.Fatalf("change: %d %s", resp.Status, resp.Body)
		}
	}
	for range 20 { // prepared statements, the worker's cache
		changeSeats()
	}
	spans.Reset()
	for b.Loop() {
		changeSeats()
	}
	b.StopTimer()
	time.Sleep(100 * time.Millisecond) // the last request's span ends after its answer
	steps := changeSteps(spans.GetSpans())
	if len(steps["total"]) == 0 {
		b.Fatal("no request traced")
	}
	for _, name := range []string{"before", "temporal", "open", "sql", "after", "total"} {
		b.ReportMetric(median(steps[name]), name+"-ms")
	}
	b.ReportMetric(mean(steps["statements"]), "statements")
}

// changeSteps is each step's time, in ms, in each traced change request
// whose trace holds every step.
func changeSteps(spans tracetest.SpanStubs) map[string][]float64 {
	byTrace := map[trace.TraceID][]tracetest.SpanStub{}
	for _, s := range spans {
		byTrace[s.SpanContext.TraceID()] = append(byTrace[s.SpanContext.TraceID()], s)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	steps := map[string][]float64{}
	for _, spans := range byTrace {
		var request, update, handle, open *tracetest.SpanStub
		var sql time.Duration
		statements := 0
		for i, s := range spans {
			switch {
			case s.Name == "POST /api/selfService/contract" && s.SpanKind == trace.SpanKindServer:
				request = &spans[i]
			case strings.HasPrefix(s.Name, "UpdateWithStartWorkflow:"):
				update = &spans[i]
			case strings.HasPrefix(s.Name, "HandleUpdate:"):
				handle = &spans[i]
			case s.Name == "RunActivity:OpenAmendment":
				open = &spans[i]
			}
		}
		if request == nil || update == nil || handle == nil || open == nil {
			continue
		}
		for _, s := range spans {
			within := !s.StartTime.Before(open.StartTime) && !s.EndTime.After(open.EndTime)
			if within && (hasAttributeKey(s, "db.query.text") || strings.HasPrefix(s.Name, "sql.conn.begin_tx") || s.Name == "sql.tx.commit") {
				sql += s.EndTime.Sub(s.StartTime)
			}
			if within && hasAttributeKey(s, "db.query.text") {
				statements++
			}
		}
		steps["before"] = append(steps["before"], ms(update.StartTime.Sub(request.StartTime)))
		steps["temporal"] = append(steps["temporal"], ms(handle.StartTime.Sub(update.StartTime)))
		steps["open"] = append(steps["open"], ms(open.EndTime.Sub(open.StartTime)))
		steps["sql"] = append(steps["sql"], ms(sql))
		steps["after"] = append(steps["after"], ms(request.EndTime.Sub(update.EndTime)))
		steps["total"] = append(steps["total"], ms(request.EndTime.Sub(request.StartTime)))
		steps["statements"] = append(steps["statements"], float64(statements))
	}
	return steps
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
