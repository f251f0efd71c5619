package metrics

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// timerBuckets are the histogram buckets, in seconds, of every SDK timer.
// One set serves them all, from a workflow task's milliseconds to a
// scheduled amendment's end-to-end latency of days.
var timerBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400}

// NewTemporalHandler returns a Temporal SDK metrics handler whose metrics
// reg exposes: counters as NAME_total, gauges as NAME, timers as
// NAME_seconds histograms.
//
// The SDK picks a metric's tags as it goes, and one name can carry different
// tag keys in different places (a request made for a worker has a
// task_queue, one made by the client does not). Prometheus vectors fix their
// label names up front and cannot hold that, so the handler keeps its own
// series and, on each scrape, gives every series of a name the union of that
// name's labels, the missing ones empty, which Prometheus reads as absent.
func NewTemporalHandler(reg prometheus.Registerer) client.MetricsHandler {
	c := &sdkCollector{families: map[familyKey]*family{}}
	reg.MustRegister(c)
	return c.handler(nil)
}

type kind int

const (
	counterKind kind = iota
	gaugeKind
	timerKind
)

// familyKey keeps a kind in the key: were the same exported name asked for
// as two kinds, both reach the scrape, where Prometheus reports the clash
// instead of one kind's values silently vanishing.
type familyKey struct {
	name string
	kind kind
}

type family struct {
	labels map[string]struct{}
	series map[string]*series
}

type series struct {
	labels map[string]string
	value  instrument
}

// instrument is one series' value; it renders itself with the family's
// description and the series' label values.
type instrument interface {
	metric(desc *prometheus.Desc, labelValues []string) (prometheus.Metric, error)
}

// sdkCollector is an unchecked collector: it describes nothing up front,
// since it learns its metrics only as the SDK records them.
type sdkCollector struct {
	mu       sync.Mutex
	families map[familyKey]*family
}

func (*sdkCollector) Describe(chan<- *prometheus.Desc) {}

func (c *sdkCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, f := range c.families {
		names := slices.Sorted(maps.Keys(f.labels))
		desc := prometheus.NewDesc(key.name, "Temporal SDK metric "+key.name+".", names, nil)
		for _, s := range f.series {
			values := make([]string, len(names))
			for i, n := range names {
				values[i] = s.labels[n]
			}
			m, err := s.value.metric(desc, values)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

// instrument finds or creates the series of name and kind with the given
// tags; key is the tags in canonical form.
func (c *sdkCollector) instrument(name string, k kind, tags map[string]string, key string, create func() instrument) instrument {
	c.mu.Lock()
	defer c.mu.Unlock()
	fk := familyKey{name: name, kind: k}
	f := c.families[fk]
	if f == nil {
		f = &family{labels: map[string]struct{}{}, series: map[string]*series{}}
		c.families[fk] = f
	}
	s := f.series[key]
	if s == nil {
		s = &series{labels: tags, value: create()}
		f.series[key] = s
		for n := range tags {
			f.labels[n] = struct{}{}
		}
	}
	return s.value
}

func (c *sdkCollector) handler(tags map[string]string) *sdkHandler {
	var key strings.Builder
	for _, n := range slices.Sorted(maps.Keys(tags)) {
		key.WriteString(n)
		key.WriteByte(0)
		key.WriteString(tags[n])
		key.WriteByte(0)
	}
	return &sdkHandler{collector: c, tags: tags, key: key.String()}
}

// sdkHandler is the client.MetricsHandler for one set of tags.
type sdkHandler struct {
	collector *sdkCollector
	tags      map[string]string
	key       string
}

func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return h.collector.handler(merged)
}

func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	if !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	return h.collector.instrument(name, counterKind, h.tags, h.key, func() instrument { return &counter{} }).(*counter)
}

func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	return h.collector.instrument(name, gaugeKind, h.tags, h.key, func() instrument { return &gauge{} }).(*gauge)
}

func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	return h.collector.instrument(name+"_seconds", timerKind, h.tags, h.key, func() instrument {
		return &timer{counts: make([]uint64, len(timerBuckets))}
	}).(*timer)
}

type counter struct{ n atomic.Int64 }

func (c *counter) Inc(d int64) { c.n.Add(d) }

func (c *counter) metric(desc *prometheus.Desc, labelValues []string) (prometheus.Metric, error) {
	return prometheus.NewConstMetric(desc, prometheus.CounterValue, float64(c.n.Load()), labelValues...)
}

// gauge holds its float64 as bits, so updates need no lock.
type gauge struct{ bits atomic.Uint64 }

func (g *gauge) Update(v float64) { g.bits.Store(math.Float64bits(v)) }

func (g *gauge) metric(desc *prometheus.Desc, labelValues []string) (prometheus.Metric, error) {
	return prometheus.NewConstMetric(desc, prometheus.GaugeValue, math.Float64frombits(g.bits.Load()), labelValues...)
}

// timer is a histogram over timerBuckets; counts[i] holds the observations
// in bucket i alone, made cumulative when scraped.
type timer struct {
	mu     sync.Mutex
	counts []uint64
	count  uint64
	sum    float64
}

func (t *timer) Record(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(timerBuckets, s)
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < len(t.counts) {
		t.counts[i]++
	}
	t.count++
	t.sum += s
}

func (t *timer) metric(desc *prometheus.Desc, labelValues []string) (prometheus.Metric, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	buckets := make(map[float64]uint64, len(timerBuckets))
	var cumulative uint64
	for i, upper := range timerBuckets {
		cumulative += t.counts[i]
		buckets[upper] = cumulative
	}
	return prometheus.NewConstHistogram(desc, t.count, t.sum, buckets, labelValues...)
}
