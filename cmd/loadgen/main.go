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
	rounds       int
	temporal     string
	namespace    string
	temporalGzip bool
	databaseURL  string
	seed         int
	seedDeclined int // percent of the seeded contracts paying with pm_declined
	existing     bool
	seeded       []string // ids of seeded contracts, used instead of creating new ones
	sample       *sample  // what the read kinds pick from
}

func main() {
	var o options
	var mix string
	flag.StringVar(&o.baseURL, "url", "http://localhost:8080", "the API's base URL; several, comma-separated, take the requests in turn (API processes scaled out)")
	flag.StringVar(&o.submitterKey, "submitter-key", "demo-submitter-key", "a submitter key of the tenant to load")
	flag.StringVar(&o.approverKey, "approver-key", "demo-approver-key", "an approver key of the same tenant")
	flag.StringVar(&o.prefix, "prefix", "DEMO", "the tenant's prefix (DDCMS schedule routes)")
	flag.IntVar(&o.contracts, "contracts", 0, "contracts to create first (default: 2 × concurrency)")
	flag.IntVar(&o.requests, "requests", 500, "requests to send")
	flag.IntVar(&o.concurrency, "concurrency", 1, "concurrent clients")
	flag.StringVar(&mix, "mix", "immediate=100", "request kinds and weights: "+strings.Join(kindNames(), ", "))
	flag.BoolVar(&o.json, "json", false, "print the report as JSON")
	flag.BoolVar(&o.floor, "floor", false, "also measure the Temporal floor (needs -temporal and -database-url)")
	flag.IntVar(&o.rounds, "rounds", 6, "with -floor, alternate the measured requests and the floor in this many rounds, so both see the machine alike; each ratio to the floor is the median of the rounds' own")
	flag.StringVar(&o.temporal, "temporal", "127.0.0.1:7233", "Temporal frontend for the floor")
	flag.StringVar(&o.namespace, "namespace", "default", "Temporal namespace for the floor")
	flag.BoolVar(&o.temporalGzip, "temporal-gzip", false, "gzip the floor's requests to Temporal, as the service does when TEMPORAL_GRPC_GZIP is true")
	flag.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/contracts?sslmode=disable", "Postgres for the floor, -seed and the read kinds' sample")
	flag.IntVar(&o.seed, "seed", 0, "first bulk-insert this many contracts straight into Postgres and use them (scale tests)")
	flag.IntVar(&o.seedDeclined, "seed-declined", 0, "with -seed, this percent (0-100) of the contracts pay with the sandbox's declining payment method (pm_declined)")
	flag.BoolVar(&o.existing, "existing", false, "use -contracts of the tenant's contracts with nothing open, at random, from Postgres, instead of creating them (scale tests)")
	flag.Parse()
	var err error
	if o.mix, err = parseMix(mix); err != nil {
		fail(err)
	}
	if o.contracts == 0 {
		o.contracts = 2 * o.concurrency
	}
	if o.concurrency < 1 || o.requests < 1 || o.contracts < o.concurrency || o.rounds < 1 {
		fail(fmt.Errorf("need concurrency ≥ 1, requests ≥ 1, contracts ≥ concurrency and rounds ≥ 1"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.seed > 0 {
		if o.seeded, err = seedContracts(ctx, o.databaseURL, o.prefix, o.seed, o.seedDeclined); err != nil {
			fail(err)
		}
	} else if o.existing {
		if o.seeded, err = quietContracts(ctx, o.databaseURL, o.prefix, o.contracts); err != nil {
			fail(err)
		}
		if len(o.seeded) < o.contracts {
			fail(fmt.Errorf("-existing: the tenant has %d contracts with nothing open, fewer than -contracts %d", len(o.seeded), o.contracts))
		}
	}

	if needsSample(o.mix) {
		if o.sample, err = loadSample(ctx, o.databaseURL, o.prefix); err != nil {
			fail(err)
		}
	}

	rep, err := run(ctx, o)
	if err != nil {
		fail(err)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.print()
}

// printRounds shows each round's ratios to the floor, of which the table's
// are the medians.
func (r *report) printRounds() {
	if len(r.Rounds) == 0 {
		return
	}
	fmt.Println("\nvs floor by round (throughput, p50; the table shows their medians):")
	for _, round := range r.Rounds {
		for _, k := range round.Kinds {
			if k.Kind != floorKind {
				fmt.Printf("  round %d %s: %.0f%%, %.2f× (%.1f/s, p50 %.1f ms)\n", round.Round, k.Kind, 100*k.ThroughputVsFloor, k.P50VsFloor, k.Throughput, k.P50)
			}
		}
	}
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
// the requests on its own contracts, so clients never contend for one
// contract. With the floor, the requests are sent in rounds that alternate
// with rounds of the floor (measured first, then floor first, and so on), so
// that a machine whose speed drifts during the run slows both alike.
func run(ctx context.Context, o options) (*report, error) {
	l, err := newLoad(ctx, o)
	if err != nil {
		return nil, err
	}
	rounds := 1
	var fl *floor
	if o.floor {
		if fl, err = startFloor(ctx, o); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		defer fl.stop()
		rounds = min(o.rounds, o.requests)
	}
	rec, floorRec := newRecorder(), newRecorder()
	done := make(chan struct{})
	go progress(rec, o.requests, done)
	defer close(done)
	var took, floorTook time.Duration
	var compared []roundStats
	for r := 0; r < rounds; r++ {
		lo, hi := r*o.requests/rounds, (r+1)*o.requests/rounds
		round, floorRound := rec.round(), floorRec.round()
		var roundTook, floorRoundTook time.Duration
		if fl != nil && r%2 == 1 {
			floorRoundTook = fl.run(ctx, o, hi-lo, floorRound)
		}
		roundTook = l.send(ctx, lo, hi, round)
		if fl != nil && r%2 == 0 {
			floorRoundTook = fl.run(ctx, o, hi-lo, floorRound)
		}
		took, floorTook = took+roundTook, floorTook+floorRoundTook
		if fl != nil {
			rep, err := withFloor(round.report(roundTook, o), floorRound.report(floorRoundTook, o))
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", r+1, err)
			}
			compared = append(compared, roundStats{Round: r + 1, Kinds: rep.Kinds})
		}
	}
	rep := rec.report(took, o)
	if fl == nil {
		return rep, nil
	}
	rep, err = withFloor(rep, floorRec.report(floorTook, o))
	if err != nil {
		return nil, err
	}
	rep.compareByRounds(compared)
	return rep, nil
}

// withFloor adds the floor's figures to rep and compares each kind with them.
func withFloor(rep, floorRep *report) (*report, error) {
	if len(floorRep.Kinds) == 0 {
		return nil, fmt.Errorf("floor: no workflow ran")
	}
	rep.add(floorRep.Kinds[0])
	rep.compareToFloor()
	return rep, nil
}

// load is the run's requests and the contracts they change.
type load struct {
	o         options
	client    *apiClient
	contracts []*contract
	plan      []string
}

func newLoad(ctx context.Context, o options) (*load, error) {
	l := &load{o: o, client: newClient(o), plan: schedule(o.mix, o.requests)}
	if onlyReads(o.mix) {
		// Reads change nothing, so every client may share one contract.
		for range o.contracts {
			l.contracts = append(l.contracts, &contract{})
		}
		return l, nil
	}
	if len(o.seeded) >= o.contracts {
		for _, id := range o.seeded[:o.contracts] {
			l.contracts = append(l.contracts, &contract{id: id, seats: 5})
		}
		return l, nil
	}
	fmt.Fprintf(os.Stderr, "creating %d contracts…\n", o.contracts)
	var err error
	l.contracts, err = l.client.createContracts(ctx, o.contracts)
	return l, err
}

// send sends the plan's requests lo to hi at the run's concurrency and
// returns how long they took.
func (l *load) send(ctx context.Context, lo, hi int, rec *recorder) time.Duration {
	next := atomic.Int64{}
	next.Store(int64(lo))
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < l.o.concurrency; w++ {
		mine := l.contracts[w*len(l.contracts)/l.o.concurrency : (w+1)*len(l.contracts)/l.o.concurrency]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				n := next.Add(1) - 1
				if n >= int64(hi) {
					return
				}
				ct := mine[i%len(mine)]
				if leavesHeld[l.plan[n]] {
					// One request per contract, whichever client is fastest.
					ct = l.contracts[n%int64(len(l.contracts))]
				}
				kinds[l.plan[n]](ctx, l.client, ct, rec)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// leavesHeld names the kinds that leave their contract with an open
// amendment, so no contract may get two of them.
var leavesHeld = map[string]bool{"hold": true, "park": true, "ramp": true, "grow": true}

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
		if k.ThroughputVsFloor > 0 { // the median of the rounds' ratios
			ratio = fmt.Sprintf("%.0f%%", 100*k.ThroughputVsFloor)
			p50ratio = fmt.Sprintf("%.1f×", k.P50VsFloor)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", k.Kind, k.Count, k.Errors, k.Throughput, k.P50, k.P95, k.P99, ratio, p50ratio)
	}
	w.Flush()
	r.printRounds()
	if len(r.Statuses) > 0 {
		fmt.Println("\nanswers by status:")
		for _, s := range r.Statuses {
			fmt.Printf("  %s %d\n", s.Status, s.Count)
		}
	}
}
