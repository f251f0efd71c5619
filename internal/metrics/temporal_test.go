package metrics

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestTemporalHandlerExposesSDKMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	root := NewTemporalHandler(reg)
	client := root.WithTags(map[string]string{"namespace": "default"})
	worker := client.WithTags(map[string]string{"task_queue": "contracts"})

	// One name, two tag sets: the client's requests have no task queue.
	client.Counter("temporal_request").Inc(1)
	worker.Counter("temporal_request").Inc(2)
	worker.Counter("temporal_request").Inc(3)
	worker.Gauge("temporal_num_pollers").Update(4)
	worker.Gauge("temporal_num_pollers").Update(2)
	worker.Timer("temporal_activity_execution_latency").Record(40 * time.Millisecond)
	worker.Timer("temporal_activity_execution_latency").Record(2 * time.Hour)
	// The SDK's own _total names are not doubled.
	root.Counter("contractd_amendments_total").Inc(1)

	expected := `
# HELP contractd_amendments_total Temporal SDK metric contractd_amendments_total.
# TYPE contractd_amendments_total counter
contractd_amendments_total 1
# HELP temporal_request_total Temporal SDK metric temporal_request_total.
# TYPE temporal_request_total counter
temporal_request_total{namespace="default",task_queue=""} 1
temporal_request_total{namespace="default",task_queue="contracts"} 5
# HELP temporal_num_pollers Temporal SDK metric temporal_num_pollers.
# TYPE temporal_num_pollers gauge
temporal_num_pollers{namespace="default",task_queue="contracts"} 2
# HELP temporal_activity_execution_latency_seconds Temporal SDK metric temporal_activity_execution_latency_seconds.
# TYPE temporal_activity_execution_latency_seconds histogram
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.001"} 0
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.005"} 0
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.01"} 0
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.025"} 0
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.05"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.1"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.25"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="0.5"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="1"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="2.5"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="5"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="10"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="30"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="60"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="300"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="3600"} 1
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="86400"} 2
temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="contracts",le="+Inf"} 2
temporal_activity_execution_latency_seconds_sum{namespace="default",task_queue="contracts"} 7200.04
temporal_activity_execution_latency_seconds_count{namespace="default",task_queue="contracts"} 2
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected)))
}

func TestTemporalHandlerWithTagsOverrides(t *testing.T) {
	reg := prometheus.NewRegistry()
	base := NewTemporalHandler(reg).WithTags(map[string]string{"namespace": "a", "client_name": "go"})
	base.WithTags(map[string]string{"namespace": "b"}).Counter("hits").Inc(1)
	base.Counter("hits").Inc(1)

	expected := `
# HELP hits_total Temporal SDK metric hits_total.
# TYPE hits_total counter
hits_total{client_name="go",namespace="a"} 1
hits_total{client_name="go",namespace="b"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected)))
}

func TestTemporalHandlerReportsBadNamesAtScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewTemporalHandler(reg)
	h.Counter("fine").Inc(1)
	h.WithTags(map[string]string{"__reserved": "x"}).Counter("broken").Inc(1)

	families, err := reg.Gather()
	require.Error(t, err, "a reserved label name is reported, not dropped silently")
	require.Len(t, families, 1, "the valid metric is still gathered")
	require.Equal(t, "fine_total", families[0].GetName())
}

func TestTemporalHandlerConcurrentUse(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewTemporalHandler(reg)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tagged := h.WithTags(map[string]string{"worker": strconv.Itoa(i % 2)})
			for range 100 {
				tagged.Counter("c").Inc(1)
				tagged.Gauge("g").Update(1)
				tagged.Timer("t").Record(time.Millisecond)
				_, _ = reg.Gather()
			}
		})
	}
	wg.Wait()
	series, err := testutil.GatherAndCount(reg, "c_total")
	require.NoError(t, err)
	require.Equal(t, 2, series)
	require.Equal(t, float64(800), sumCounter(t, reg, "c_total"))
}

func sumCounter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
