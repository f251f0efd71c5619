// Command loadgen measures the service over HTTP: it creates contracts, then
// sends a mix of requests at a given concurrency and reports throughput and
// latency per kind of request. With -floor it also measures the Temporal
// floor in the same run: a bare workflow with one local activity doing one
// Postgres insert, against the same Temporal server and database.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

type options struct {
	baseURL      string
	submitterKey string
	approverKey  string
	prefix       string
	contracts    int
	requests     int
	concurrency  int
	mix          map[string]int
	json         bool
	floor        bool
	temporal     string
	namespace    string
	databaseURL  string
	seed         int
	seeded       []string // ids of seeded contracts, used instead of creating new ones
}

func main() {
	var o options
	var mix string
	flag.StringVar(&o.baseURL, "url", "http://localhost:8080", "the API's base URL")
	flag.StringVar(&o.submitterKey, "submitter-key", "demo-submitter-key", "a submitter key of the tenant to load")
	flag.StringVar(&o.approverKey, "approver-key", "demo-approver-key", "an approver key of the same tenant")
	flag.StringVar(&o.prefix, "prefix", "DEMO", "the tenant's prefix (DDCMS schedule routes)")
	flag.IntVar(&o.contracts, "contracts", 0, "contracts to create first (default: 2 × concurrency)")
	flag.IntVar(&o.requests, "requests", 500, "requests to send")
	flag.IntVar(&o.concurrency, "concurrency", 1, "concurrent clients")
	flag.StringVar(&mix, "mix", "immediate=100", "request kinds and weights: "+strings.Join(kindNames(), ", "))
	flag.BoolVar(&o.json, "json", false, "print the report as JSON")
	flag.BoolVar(&o.floor, "floor", false, "also measure the Temporal floor (needs -temporal and -database-url)")
	flag.StringVar(&o.temporal, "temporal", "127.0.0.1:7233", "Temporal frontend for the floor")
	flag.StringVar(&o.namespace, "namespace", "default", "Temporal namespace for the floor")
	flag.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/contracts?sslmode=disable", "Postgres for the floor and -seed")
	flag.IntVar(&o.seed, "seed", 0, "first bulk-insert this many contracts straight into Postgres and use them (scale tests)")
	flag.Parse()
	var err error
	if o.mix, err = parseMix(mix); err != nil {
		fail(err)
	}
	if o.contracts == 0 {
		o.contracts = 2 * o.concurrency
	}
	if o.concurrency < 1 || o.requests < 1 || o.contracts < o.concurrency {
		fail(fmt.Errorf("need concurrency ≥ 1, requests ≥ 1 and contracts ≥ concurrency"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.seed > 0 {
		if o.seeded, err = seedContracts(ctx, o.databaseURL, o.prefix, o.seed); err != nil {
			fail(err)
		}
	}

	rep, err := run(ctx, o)
	if err != nil {
		fail(err)
	}
	if o.floor {
		floor, err := measureFloor(ctx, o)
		if err != nil {
			fail(fmt.Errorf("floor: %w", err))
		}
		rep.add(floor)
		rep.compareToFloor()
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.print()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.Atoi(weight)
		if !ok || err != nil || w < 0 {
			return nil, fmt.Errorf("mix entry %q is not kind=weight", part)
		}
		if _, known := kinds[name]; !known {
			return nil, fmt.Errorf("unknown kind %q (known: %s)", name, strings.Join(kindNames(), ", "))
		}
		mix[name] = w
	}
	return mix, nil
}

// run creates the contracts, then lets each client work through its share of
// the requests on its own contracts, so clients never contend for one contract.
func run(ctx context.Context, o options) (*report, error) {
	c := newClient(o)
	var contracts []*contract
	if len(o.seeded) >= o.contracts {
		for _, id := range o.seeded[:o.contracts] {
			contracts = append(contracts, &contract{id: id, seats: 5})
		}
	} else {
		fmt.Fprintf(os.Stderr, "creating %d contracts…\n", o.contracts)
		var err error
		if contracts, err = c.createContracts(ctx, o.contracts); err != nil {
			return nil, err
		}
	}
	plan := schedule(o.mix, o.requests)
	rec := newRecorder()
	var next atomic.Int64
	done := make(chan struct{})
	go progress(rec, o.requests, done)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		mine := contracts[w*len(contracts)/o.concurrency : (w+1)*len(contracts)/o.concurrency]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				n := next.Add(1) - 1
				if n >= int64(len(plan)) {
					return
				}
				ct := mine[i%len(mine)]
				if leavesHeld[plan[n]] {
					// One request per contract, whichever client is fastest.
					ct = contracts[n%int64(len(contracts))]
				}
				kinds[plan[n]](ctx, c, ct, rec)
			}
		}()
	}
	wg.Wait()
	close(done)
	return rec.report(time.Since(start), o), nil
}

// leavesHeld names the kinds that leave their contract with an open
// amendment, so no contract may get two of them.
var leavesHeld = map[string]bool{"hold": true, "park": true}

// schedule spreads the kinds over the requests by weight, interleaved.
func schedule(mix map[string]int, n int) []string {
	total := 0
	names := make([]string, 0, len(mix))
	for name, w := range mix {
		total += w
		names = append(names, name)
	}
	sort.Strings(names)
	plan := make([]string, 0, n)
	credit := map[string]float64{}
	for len(plan) < n {
		for _, name := range names {
			credit[name] += float64(mix[name]) / float64(total)
			if credit[name] >= 1 && len(plan) < n {
				credit[name]--
				plan = append(plan, name)
			}
		}
	}
	return plan
}

func progress(rec *recorder, total int, done <-chan struct{}) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fmt.Fprintf(os.Stderr, "  %d/%d requests\n", rec.count(), total)
		}
	}
}

func (r *report) print() {
	fmt.Printf("loadgen: %d clients, %d requests, %s (%s)\n\n", r.Concurrency, r.Requests, r.Elapsed, r.Machine)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "kind\tcount\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tvs floor req/s\tvs floor p50\t")
	for _, k := range r.Kinds {
		ratio, p50ratio := "", ""
		if k.ThroughputVsFloor > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*k.ThroughputVsFloor)
			p50ratio = fmt.Sprintf("%.1f×", k.P50VsFloor)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", k.Kind, k.Count, k.Errors, k.Throughput, k.P50, k.P95, k.P99, ratio, p50ratio)
	}
	w.Flush()
	if len(r.Statuses) > 0 {
		fmt.Println("\nanswers by status:")
		for _, s := range r.Statuses {
			fmt.Printf("  %s %d\n", s.Status, s.Count)
		}
	}
}
