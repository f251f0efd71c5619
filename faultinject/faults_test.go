//go:build faultinject

package faultinject

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
)

// scale picks the full suite's size or, with -short (CI), the short form's.
func scale(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

const submitPath = "/api/selfService/contract"

// crashRepeatedly kills p with SIGKILL `times` times at random moments while
// the load runs, restarting it after a short pause each time. It reports how
// many kills happened while changes were still in flight.
func (c *cluster) crashRepeatedly(p *process, times int, restart func() error, load <-chan struct{}) <-chan int {
	done := make(chan int, 1)
	go func() {
		inFlight := 0
		for range times {
			time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Millisecond)
			select {
			case <-load:
			default:
				inFlight++
			}
			p.kill()
			time.Sleep(time.Duration(200+rand.IntN(1300)) * time.Millisecond)
			if err := restart(); err != nil {
				c.t.Errorf("restart %s: %v", p.name, err)
			}
		}
		done <- inFlight
	}()
	return done
}

// forEach runs fn for every contract with `concurrency` at a time and
// returns the errors.
func forEach(cts []contract, concurrency int, fn func(i int, ct contract) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, concurrency)
	for i, ct := range cts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i, ct); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// expect checks one answer of a scenario's script.
func expect(step string, r reply, status int) error {
	if r.status != status {
		return fmt.Errorf("%s: HTTP %d, want %d: %v", step, r.status, status, r.body)
	}
	return nil
}

// submit sends a self-service change (with retries) and checks the answer.
func submit(ctx context.Context, api *client, kind string, body map[string]any, key string, status int) (reply, error) {
	r := api.send(ctx, kind, "POST", submitPath, demo.SubmitterKey, body, key)
	return r, expect(kind, r, status)
}

// approvedChange submits a seat change held in REVIEW, then approves it.
func approvedChange(ctx context.Context, api *client, ct contract, n int, key string) error {
	held, err := submit(ctx, api, "review", seats(ct, "off_team", n, map[string]any{"requireApproval": true}), key, http.StatusAccepted)
	if err != nil {
		return err
	}
	if status, err := api.decide(ctx, "approve", amendmentID(held), demo.ApproverKey); err != nil || status != "APPLIED" {
		return fmt.Errorf("approve: %q %v", status, err)
	}
	return nil
}

// fiveChanges is one contract's part of the worker-crash load, in order: an
// immediate change, one held in REVIEW and approved, another immediate one,
// a crossgrade upgrade paid by card, and a future-dated change (a quantity
// change in two weeks, or a downgrade at the next period) left SCHEDULED.
func fiveChanges(ctx context.Context, api *client, i int, ct contract) error {
	key := func(step int) string { return fmt.Sprintf("%s/%d", ct.id, step) }
	if _, err := submit(ctx, api, "immediate", seats(ct, "off_team", 6, nil), key(1), http.StatusOK); err != nil {
		return err
	}
	if err := approvedChange(ctx, api, ct, 4, key(2)); err != nil {
		return err
	}
	if _, err := submit(ctx, api, "immediate", seats(ct, "off_team", 7, nil), key(3), http.StatusOK); err != nil {
		return err
	}
	if err := expect("upgrade", api.send(ctx, "upgrade", "POST", crossgradePath(ct), demo.SubmitterKey, map[string]any{"salesItemCode": "BUSINESS-M"}, key(4)), http.StatusOK); err != nil {
		return err
	}
	if i%2 == 0 {
		later := time.Now().UTC().AddDate(0, 0, 14).Format(time.DateOnly)
		_, err := submit(ctx, api, "future", seats(ct, "off_business", 9, map[string]any{"effectiveDate": later}), key(5), http.StatusOK)
		return err
	}
	return expect("downgrade", api.send(ctx, "downgrade", "POST", crossgradePath(ct), demo.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M"}, key(5)), http.StatusAccepted)
}

// withdrawScheduled withdraws every SCHEDULED amendment through the API: the
// last step of their workflows, run by whichever worker is alive.
func (c *cluster) withdrawScheduled(t *testing.T, ctx context.Context, api *client) int {
	t.Helper()
	var ids []string
	require.NoError(t, c.db.Select(&ids, `SELECT id FROM amendments WHERE status = 'SCHEDULED' ORDER BY id`))
	for _, id := range ids {
		status, err := api.decide(ctx, "withdraw", id, demo.SubmitterKey)
		require.NoError(t, err)
		require.Equal(t, "WITHDRAWN", status)
	}
	return len(ids)
}

// start brings up a cluster and creates its contracts; ctx bounds the test.
func start(t *testing.T, contracts int, timeout time.Duration) (*cluster, *client, context.Context, []contract) {
	c := newCluster(t)
	api := newClient(c.baseURL)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return c, api, ctx, api.createContracts(t, ctx, contracts)
}

func TestWorkerKilledWhileChangesInFlight(t *testing.T) {
	contracts, kills := scale(100, 12), scale(10, 2)
	c, api, ctx, cts := start(t, contracts, 15*time.Minute)

	load := make(chan struct{})
	killed := c.crashRepeatedly(c.worker, kills, func() error { c.worker.start(); return nil }, load)
	started := time.Now()
	errs := forEach(cts, 20, func(i int, ct contract) error { return fiveChanges(ctx, api, i, ct) })
	close(load)
	inFlight := <-killed
	require.Empty(t, errs, "scripts that did not finish as expected")
	t.Logf("%d changes on %d contracts in %s; worker killed %d times, %d of them with changes in flight; %s",
		5*contracts, contracts, time.Since(started).Round(time.Millisecond), kills, inFlight, api.summary())

	c.settle(t, 3*time.Minute)
	withdrawn := c.withdrawScheduled(t, ctx, api)
	require.Equal(t, contracts, withdrawn)
	c.settle(t, time.Minute)
	c.checkInvariants(t, expectation{
		statuses: map[string]int{"APPLIED": 4 * contracts, "WITHDRAWN": contracts},
		captures: contracts,
	})
	assert.Zero(t, api.statusCount(http.StatusInternalServerError), "500 answers")
	assert.True(t, c.worker.running(), "the last worker is still running")
}

func TestAPIKilledMidRequest(t *testing.T) {
	contracts, kills := scale(60, 15), scale(5, 2)
	const changes = 3
	c, api, ctx, cts := start(t, contracts, 10*time.Minute)

	load := make(chan struct{})
	killed := c.crashRepeatedly(c.api, kills, c.startAPI, load)
	errs := forEach(cts, 20, func(_ int, ct contract) error {
		for step := range changes {
			if _, err := submit(ctx, api, "immediate", seats(ct, "off_team", 6+step, nil), fmt.Sprintf("%s/%d", ct.id, step), http.StatusOK); err != nil {
				return err
			}
		}
		return nil
	})
	close(load)
	inFlight := <-killed
	require.Empty(t, errs)
	t.Logf("api killed %d times, %d with requests in flight; %d requests got no answer and were retried; %s",
		kills, inFlight, api.statusCount(0), api.summary())

	c.settle(t, 2*time.Minute)
	c.checkInvariants(t, expectation{statuses: map[string]int{"APPLIED": changes * contracts}})
	assert.Zero(t, api.statusCount(http.StatusInternalServerError), "500 answers")
}

// outcome is one answer and when it came.
type outcome struct {
	at     time.Time
	status int
	id     string
	// made: answered 200, or still being made (stillBeingMade).
	made bool
}

func TestPostgresOutage(t *testing.T) {
	const writers, outage = 20, 10 * time.Second
	contracts := scale(60, 40)
	c, api, ctx, cts := start(t, contracts, 10*time.Minute)

	// Writers change their own contracts without retrying, so every answer
	// is seen as it was.
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	// write changes contracts from the first'th on, every stride'th, until
	// stop is closed.
	write := func(first, stride int, stop <-chan struct{}) {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			ct := cts[(first+n*stride)%len(cts)]
			r := api.call(ctx, "immediate", "POST", submitPath, demo.SubmitterKey, seats(ct, "off_team", 2+n%40, nil), "")
			mu.Lock()
			outcomes = append(outcomes, outcome{at: time.Now(), status: r.status, id: amendmentID(r), made: r.status == http.StatusOK || stillBeingMade(r)})
			mu.Unlock()
			if r.status != http.StatusOK {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	stopLoad := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go write(w, writers, stopLoad)
	}
	time.Sleep(3 * time.Second)
	down := time.Now()
	require.NoError(t, c.pg.stop())
	// A change already in its workflow when Postgres went waits for it
	// there and is answered once it is back (it is checked applied below);
	// a writer starting a change during the outage must be answered 503 at
	// once. The writers above are most often all waiting, so one more
	// starts during the outage only.
	stopProbe := make(chan struct{})
	wg.Add(1)
	go write(0, 1, stopProbe)
	time.Sleep(outage)
	close(stopProbe)
	require.NoError(t, c.pg.start())
	up := time.Now()
	time.Sleep(10 * time.Second)
	close(stopLoad)
	wg.Wait()

	byPhase := map[string]map[int]int{"before": {}, "during": {}, "after": {}, "recovered": {}}
	var applied []string
	for _, o := range outcomes {
		phase := "before"
		switch {
		case o.at.After(up.Add(5 * time.Second)):
			phase = "recovered"
		case o.at.After(up):
			phase = "after"
		case o.at.After(down):
			phase = "during"
		}
		byPhase[phase][o.status]++
		if o.made {
			applied = append(applied, o.id)
		}
	}
	t.Logf("Postgres down %s; answers by phase (status: count): %v; %s", outage, byPhase, api.summary())
	assert.Positive(t, byPhase["during"][http.StatusServiceUnavailable], "503 answers while Postgres was down")
	assert.Zero(t, api.noRetryAfter, "503 answers without Retry-After")
	for phase, statuses := range byPhase {
		for status, n := range statuses {
			assert.False(t, status >= 500 && status != http.StatusServiceUnavailable, "%d answers of %d %s the outage", n, status, phase)
		}
	}
	assert.Positive(t, byPhase["recovered"][http.StatusOK], "changes applied once Postgres was back")
	assert.Zero(t, byPhase["recovered"][http.StatusServiceUnavailable], "503 answers 5 s after Postgres was back")

	counts := c.settle(t, 2*time.Minute)
	// Every change that was answered 200 is applied, never half-written;
	var lost int
	require.NoError(t, c.db.Get(&lost, `SELECT $1::int - count(*) FROM amendments WHERE status = 'APPLIED' AND id = ANY($2::uuid[])`,
		len(applied), pq.Array(applied)))
	assert.Zero(t, lost, "changes answered 200 (or 202, still being made) but not applied")
	c.checkInvariants(t, expectation{statuses: map[string]int{"APPLIED": counts["APPLIED"]}})
	// and nothing answered otherwise was applied: the client, told 503,
	// would make it again.
	assert.Equal(t, len(applied), counts["APPLIED"], "changes applied but not answered 200 or 202")
}

func TestTemporalRestartedUnderLoad(t *testing.T) {
	contracts, restarts := scale(60, 16), scale(3, 1)
	c, api, ctx, cts := start(t, contracts, 10*time.Minute)

	load := make(chan struct{})
	killed := c.crashRepeatedly(c.temporal, restarts, c.startTemporal, load)
	errs := forEach(cts, 20, func(_ int, ct contract) error {
		key := func(step int) string { return fmt.Sprintf("%s/%d", ct.id, step) }
		if _, err := submit(ctx, api, "immediate", seats(ct, "off_team", 6, nil), key(1), http.StatusOK); err != nil {
			return err
		}
		if err := approvedChange(ctx, api, ct, 4, key(2)); err != nil {
			return err
		}
		_, err := submit(ctx, api, "immediate", seats(ct, "off_team", 7, nil), key(3), http.StatusOK)
		return err
	})
	close(load)
	inFlight := <-killed
	require.Empty(t, errs)
	t.Logf("Temporal killed and restarted %d times, %d with changes in flight; %s", restarts, inFlight, api.summary())

	c.settle(t, 2*time.Minute)
	c.checkInvariants(t, expectation{statuses: map[string]int{"APPLIED": 3 * contracts}})
	assert.Zero(t, api.statusCount(http.StatusInternalServerError), "500 answers")
}

func TestConcurrentChangesOnOneContract(t *testing.T) {
	rounds := scale(20, 3)
	const writers = 50
	c, api, ctx, cts := start(t, 1, 10*time.Minute)
	ct := cts[0]

	// version → seats asked for by the change that produced it.
	seatsAt := map[int]int{}
	var mu sync.Mutex
	for round := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want := 1 + (round+w)%50
				// With a key, a request that times out waiting its turn is
				// retried until its outcome is known.
				r := api.send(ctx, "concurrent", "POST", submitPath, demo.SubmitterKey, seats(ct, "off_team", want, nil), fmt.Sprintf("%d/%d", round, w))
				if r.status != http.StatusOK {
					return
				}
				// The version this change made: one past the one it was priced on.
				version := 1 + int(r.body["quote"].(map[string]any)["baseVersion"].(float64))
				mu.Lock()
				defer mu.Unlock()
				assert.NotContains(t, seatsAt, version, "two changes produced version %d", version)
				seatsAt[version] = want
			}()
		}
		wg.Wait()
	}
	got := api.send(ctx, "read", "GET", "/api/contracts/"+ct.id, demo.SubmitterKey, nil, "")
	require.Equal(t, http.StatusOK, got.status)
	versions := make([]int, 0, len(seatsAt))
	for v := range seatsAt {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	final := int(got.body["version"].(float64))
	t.Logf("%d rounds of %d concurrent changes: %d applied, versions %v; %s", rounds, writers, len(seatsAt), versions, api.summary())
	require.NotEmpty(t, versions)
	assert.Equal(t, 1+len(seatsAt), final, "the contract's version counts every applied change")
	assert.Equal(t, final, versions[len(versions)-1], "the last applied change made the current version")
	line := got.body["lines"].([]any)[0].(map[string]any)
	assert.EqualValues(t, seatsAt[final], line["products"].([]any)[0].(map[string]any)["quantity"], "the contract holds the last applied change")
	assert.Zero(t, api.statusCount(http.StatusInternalServerError), "500 answers")
	assert.Zero(t, api.statusCount(http.StatusServiceUnavailable), "503 answers")
	c.settle(t, time.Minute)
	// A change that lost the race for the contract is refused (409) and, if
	// it got as far as being recorded, ends FAILED; every other one applied.
	want := map[string]int{"APPLIED": len(seatsAt)}
	if failed := c.statusCounts(t)["FAILED"]; failed > 0 {
		want["FAILED"] = failed
	}
	c.checkInvariants(t, expectation{statuses: want})
}
