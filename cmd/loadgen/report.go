package main

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// recorder collects latencies and answers from every client. A round's
// recorder passes what it records on to the whole run's (parent).
type recorder struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration
	errors    map[string]int
	statuses  map[string]int
	n         int
	parent    *recorder
}

func newRecorder() *recorder {
	return &recorder{latencies: map[string][]time.Duration{}, errors: map[string]int{}, statuses: map[string]int{}}
}

// round is a recorder for one round of the run, which records into r too.
func (r *recorder) round() *recorder {
	round := newRecorder()
	round.parent = r
	return round
}

// record notes one measured request; ok is whether its answer was the expected one.
func (r *recorder) record(kind string, d time.Duration, status string, ok bool) {
	if r.parent != nil {
		r.parent.record(kind, d, status, ok)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.statuses[kind+" "+status]++
	if !ok {
		r.errors[kind]++
		return
	}
	r.latencies[kind] = append(r.latencies[kind], d)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

type kindStats struct {
	Kind              string  `json:"kind"`
	Count             int     `json:"count"`
	Errors            int     `json:"errors"`
	Throughput        float64 `json:"throughputPerSecond"`
	P50               float64 `json:"p50Ms"`
	P95               float64 `json:"p95Ms"`
	P99               float64 `json:"p99Ms"`
	ThroughputVsFloor float64 `json:"throughputVsFloor,omitempty"`
	P50VsFloor        float64 `json:"p50VsFloor,omitempty"`
}

type statusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

type report struct {
	Machine     string        `json:"machine"`
	Concurrency int           `json:"concurrency"`
	Requests    int           `json:"requests"`
	Elapsed     string        `json:"elapsed"`
	Kinds       []kindStats   `json:"kinds"`
	Statuses    []statusCount `json:"statuses"`
	// Rounds are each round's kinds and floor, compared with each other,
	// when the run measured the floor.
	Rounds []roundStats `json:"rounds,omitempty"`
}

// roundStats is one round of a run with the floor: its requests' kinds and
// the floor's round beside them, each kind compared with that floor.
type roundStats struct {
	Round int         `json:"round"`
	Kinds []kindStats `json:"kinds"`
}

func (r *recorder) report(elapsed time.Duration, o options) *report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &report{
		Machine:     fmt.Sprintf("%d CPUs, %s/%s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH),
		Concurrency: o.concurrency, Requests: o.requests, Elapsed: elapsed.Round(time.Millisecond).String(),
	}
	names := make([]string, 0, len(r.latencies)+len(r.errors))
	seen := map[string]bool{}
	for k := range r.latencies {
		names, seen[k] = append(names, k), true
	}
	for k := range r.errors {
		if !seen[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		rep.Kinds = append(rep.Kinds, stats(k, r.latencies[k], r.errors[k], elapsed))
	}
	for s, n := range r.statuses {
		rep.Statuses = append(rep.Statuses, statusCount{Status: s, Count: n})
	}
	sort.Slice(rep.Statuses, func(i, j int) bool { return rep.Statuses[i].Status < rep.Statuses[j].Status })
	return rep
}

func stats(kind string, ds []time.Duration, errors int, elapsed time.Duration) kindStats {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	pct := func(p float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		i := int(p * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	return kindStats{
		Kind: kind, Count: len(ds), Errors: errors, Throughput: float64(len(ds)) / elapsed.Seconds(),
		P50: pct(0.50), P95: pct(0.95), P99: pct(0.99),
	}
}

func (r *report) add(k kindStats) { r.Kinds = append(r.Kinds, k) }

// compareToFloor sets each kind's throughput and p50 relative to the floor's.
func (r *report) compareToFloor() {
	var floor *kindStats
	for i := range r.Kinds {
		if r.Kinds[i].Kind == floorKind {
			floor = &r.Kinds[i]
		}
	}
	if floor == nil || floor.Throughput == 0 || floor.P50 == 0 {
		return
	}
	for i := range r.Kinds {
		if r.Kinds[i].Kind != floorKind {
			r.Kinds[i].ThroughputVsFloor = r.Kinds[i].Throughput / floor.Throughput
			r.Kinds[i].P50VsFloor = r.Kinds[i].P50 / floor.P50
		}
	}
}

// compareByRounds sets each kind's throughput and p50 relative to the
// floor's as the median of the rounds' own ratios, each round's requests
// against the floor's round beside them: a round the machine slowed for
// both sides moves the result less than in one pooled comparison.
func (r *report) compareByRounds(rounds []roundStats) {
	r.Rounds = rounds
	for i := range r.Kinds {
		var throughput, p50 []float64
		for _, round := range rounds {
			for _, k := range round.Kinds {
				if k.Kind == r.Kinds[i].Kind && k.ThroughputVsFloor > 0 {
					throughput, p50 = append(throughput, k.ThroughputVsFloor), append(p50, k.P50VsFloor)
				}
			}
		}
		r.Kinds[i].ThroughputVsFloor, r.Kinds[i].P50VsFloor = median(throughput), median(p50)
	}
}

// median is the middle of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
