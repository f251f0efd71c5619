// Package modeltest runs random sequences of every operation the service
// offers, from many concurrent clients over HTTP against the real stack
// (testkit: Postgres, an in-process Temporal server, the worker and the
// router), then checks the database's invariants
// (internal/testkit/invariants). A run is reproducible in what each client
// chooses: client i draws from a generator seeded with seed+i, and the seed
// is printed. What the clients' requests race into is the point of the test
// and differs from run to run.
//
// The short form runs in `go test`; the long form takes flags:
//
//	go test ./modeltest/ -run TestModel -count=1 -v -args -model.ops=2000 -model.clients=8 -model.seed=42
package modeltest

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/invariants"
)

var (
	opsFlag     = flag.Int("model.ops", 120, "operations in all, shared by the clients")
	clientsFlag = flag.Int("model.clients", 8, "concurrent clients")
	seedFlag    = flag.Uint64("model.seed", 0, "seed of client 0's choices (client i uses seed+i); 0 picks one")
)

// today is the business date of the run: mid-period, so every change prorates.
var today = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64() >> 1
	}
	ops, clients := *opsFlag, *clientsFlag
	t.Logf("model run: seed %d, %d operations, %d clients (rerun with -args -model.seed=%d -model.ops=%d -model.clients=%d)",
		seed, ops, clients, seed, ops, clients)

	env := testkit.New(t)
	env.Clock.Set(today)
	w := newWorld(env)
	w.setApprovalRules(t)
	for range clients {
		w.createContract(rand.New(rand.NewPCG(seed, 0)))
	}

	var wg sync.WaitGroup
	for i := range clients {
		n := ops / clients
		if i < ops%clients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed+uint64(i), uint64(i)))
			for range n {
				w.step(rng)
			}
		}()
	}
	wg.Wait()

	broken, err := invariants.Check(t.Context(), env.Store.DB(), env.Temporal, 30*time.Second)
	require.NoError(t, err)
	for _, v := range broken {
		w.violation(v.String())
	}
	t.Log(w.report(seed, clients))
	require.Empty(t, w.violations, "violations (seed %d)", seed)
}

// op is one kind of operation with its weight among all.
type op struct {
	name   string
	weight int
	run    func(w *world, rng *rand.Rand) (status int, err error)
}

var operations = []op{
	{"create contract", 6, (*world).createContract},
	{"QUANTITY_CHANGE", 14, (*world).quantityChange},
	{"ADD_OFFERING", 6, (*world).addOffering},
	{"REMOVE_OFFERING", 4, (*world).removeOffering},
	{"OFFERING_CHANGE", 6, (*world).offeringChange},
	{"RATE_CHANGE", 6, (*world).rateChange},
	{"CANCELLATION", 2, (*world).cancellation},
	{"crossgrade", 10, (*world).crossgrade},
	{"approve", 7, (*world).approve},
	{"reject", 3, (*world).reject},
	{"withdraw", 5, (*world).withdraw},
	{"cancel schedule", 4, (*world).cancelSchedule},
	{"restart schedule", 4, (*world).restartSchedule},
	{"billing run", 3, (*world).billingRun},
}

func pick(rng *rand.Rand) op {
	total := 0
	for _, o := range operations {
		total += o.weight
	}
	n := rng.IntN(total)
	for _, o := range operations {
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	panic("unreachable")
}

// step runs one random operation and records its answer. A 5xx or a
// transport failure (a hang ends at the client's timeout) is a violation:
// bad luck in a race must get a 4xx, never a 500.
func (w *world) step(rng *rand.Rand) {
	o := pick(rng)
	status, err := o.run(w, rng)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.answers[o.name] == nil {
		w.answers[o.name] = map[int]int{}
	}
	w.answers[o.name][status]++
	switch {
	case err != nil:
		w.violations = append(w.violations, fmt.Sprintf("%s: %v", o.name, err))
	case status >= 500:
		w.violations = append(w.violations, fmt.Sprintf("%s answered %d", o.name, status))
	}
}

func (w *world) violation(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, s)
}

// report is the run's figures for the README's Reliability section.
func (w *world) report(seed uint64, clients int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	total := 0
	names := make([]string, 0, len(w.answers))
	for name, byStatus := range w.answers {
		names = append(names, name)
		for _, n := range byStatus {
			total += n
		}
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "seed %d, %d clients, %d operations:\n", seed, clients, total)
	for _, name := range names {
		fmt.Fprintf(&b, "  %-17s %v\n", name, w.answers[name])
	}
	fmt.Fprintf(&b, "amendments by status: %v\n", w.amendmentCounts())
	fmt.Fprintf(&b, "invariants checked: %s\n", strings.Join(invariants.Names(), "; "))
	fmt.Fprintf(&b, "violations: %d", len(w.violations))
	for _, v := range w.violations {
		fmt.Fprintf(&b, "\n  %s", v)
	}
	return b.String()
}

func (w *world) amendmentCounts() map[string]int {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	out := map[string]int{}
	if err := w.env.Store.DB().Select(&rows, `SELECT status, count(*) AS n FROM amendments GROUP BY status`); err != nil {
		out["error: "+err.Error()] = 1
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}
