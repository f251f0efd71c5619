package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// keyLookupStore is a fresh store traced into memory, its database's URL,
// and the number of key lookups it has run so far (one span each).
func keyLookupStore(t *testing.T) (*store.Store, string, func() int) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	st, url := testdb.MigratedURL(t, store.WithTracing(sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))))
	return st, url, func() int {
		n := 0
		for _, s := range spans.GetSpans() {
			for _, a := range s.Attributes {
				if a.Key == "db.query.text" && strings.Contains(a.Value.AsString(), "FROM api_keys k JOIN tenants t") {
					n++
				}
			}
		}
		return n
	}
}

// holdKeyLookups makes every key lookup in url's database wait, on an
// exclusive lock of api_keys, until release (at the latest when the test
// ends); blocked counts the lookups waiting.
func holdKeyLookups(t *testing.T, url string) (blocked func() int, release func()) {
	t.Helper()
	db, err := sql.Open("postgres", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return holdTable(t, db, "api_keys", "ACCESS EXCLUSIVE")
}

// holdTable locks table in mode in db until release (at the latest when
// the test ends); blocked counts the statements of db's database waiting
// for a lock, this one or another.
func holdTable(t *testing.T, db *sql.DB, table, mode string) (blocked func() int, release func()) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.Exec("LOCK TABLE " + table + " IN " + mode + " MODE")
	require.NoError(t, err)
	release = func() { _ = tx.Rollback() }
	t.Cleanup(release)
	return func() int {
		var n int
		// Outside the transaction, which would see its first look at the activity again.
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n))
		return n
	}, release
}

// getCatalog is GET /api/catalog with key, from address (through a
// trusted proxy at 127.0.0.1), answered within ten seconds or failed. It
// reports instead of failing the test: a goroutine may call it.
func getCatalog(ctx context.Context, env *testkit.Env, key, address string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", env.HTTP.URL+"/api/catalog", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Forwarded-For", address)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	return resp, resp.Body.Close()
}

// sendAtOnce sends n getCatalog all at once, the ith with key(i);
// answers waits for their statuses.
func sendAtOnce(t *testing.T, env *testkit.Env, n int, key func(int) string, address string) (answers func() []int) {
	statuses, errs := make([]int, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := getCatalog(t.Context(), env, key(i), address)
			if errs[i] = err; err == nil {
				statuses[i] = resp.StatusCode
			}
		})
	}
	close(start)
	return func() []int {
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		return statuses
	}
}

// each is every request's key.
func each(key string) func(int) string { return func(int) string { return key } }

// guesses are a probe's keys, a different one each.
func guesses(i int) string { return badKey + strconv.Itoa(i) }

func statusCount(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// Failures arriving together from one address are looked up no more at a
// time than the tokens its budget has left: the others wait for those, and
// are refused once they have spent it. Checked before and charged after
// the lookup alone, a probe's 300 simultaneous guesses had 104 lookups.
// (Guesses, each a different key: one key sent many times at once is
// looked up once, see TestARevokedKeySentManyTimesAtOnceIsLookedUpOnce.)
func TestSimultaneousFailuresFromAnAddressAreLookedUpNoMoreThanItsBudget(t *testing.T) {
	const limit, burst, sent = 5, 10, 100
	st, url, lookups := keyLookupStore(t)
	env := budgetEnvAt(t, st, nil, limit, "127.0.0.1/32")
	blocked, release := holdKeyLookups(t, url)
	before, start := lookups(), time.Now()

	answers := sendAtOnce(t, env, sent, guesses, "192.0.2.50")
	require.Eventually(t, func() bool { return blocked() >= burst }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the rest arrive meanwhile
	assert.Equal(t, burst, blocked(), "lookups under way at once")
	release()
	statuses := answers()

	looked := lookups() - before
	assert.LessOrEqual(t, looked, burst+int(limit*time.Since(start).Seconds()), "at most the burst and what refilled meanwhile")
	assert.Equal(t, looked, statusCount(statuses, http.StatusUnauthorized), "%v", statuses)
	assert.Equal(t, sent-looked, statusCount(statuses, http.StatusTooManyRequests), "%v", statuses)
	assert.Contains(t, string(env.Do("GET", "/metrics", "", nil).Body),
		`contractd_http_rate_limited_total{budget="auth_failures"} `+strconv.Itoa(sent-looked)+"\n")
	t.Logf("%d simultaneous failures: %d lookups", sent, looked)
}

// A new key's first requests from an address, sent together (a load
// generator's clients starting at once), cannot be told from guesses
// before one of them is looked up: the address's budget (here one failure)
// limits how many are looked up at once, the rest wait for those, and once
// the key succeeds they are all looked up. None is refused.
func TestANewKeysSimultaneousFirstRequestsWaitForItsFirstLookup(t *testing.T) {
	st, url := testdb.MigratedURL(t)
	_, key := budgetTenant(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	blocked, release := holdKeyLookups(t, url)

	answers := sendAtOnce(t, env, 20, each(key), "192.0.2.60")
	require.Eventually(t, func() bool { return blocked() >= 1 }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the rest arrive meanwhile
	assert.Equal(t, 1, blocked(), "lookups under way at once")
	release()
	statuses := answers()
	assert.Equal(t, 20, statusCount(statuses, http.StatusOK), "%v", statuses)
}

// A request waits for its address's lookups under way a second at most,
// then is answered 429 with Retry-After: 1; one whose client hangs up while
// it waits is logged as 499.
func TestARequestWaitsForItsAddressesLookupsASecondAtMost(t *testing.T) {
	st, url := testdb.MigratedURL(t)
	var log testkit.LogBuffer
	env := budgetEnv(t, st, &log, "127.0.0.1/32")
	blocked, release := holdKeyLookups(t, url)
	first := sendAtOnce(t, env, 1, each(badKey), "192.0.2.70")
	require.Eventually(t, func() bool { return blocked() == 1 }, 10*time.Second, 5*time.Millisecond)

	ctx, hangUp := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, hangUp)
	_, err := getCatalog(ctx, env, badKey, "192.0.2.70")
	require.ErrorIs(t, err, context.Canceled)

	waited := time.Now()
	resp, err := getCatalog(t.Context(), env, badKey, "192.0.2.70")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, time.Since(waited), time.Second)
	release()
	assert.Equal(t, []int{http.StatusUnauthorized}, first())
	assert.Contains(t, log.String(), `"status":499`)
}

// A key that authenticated lately from an address, then revoked, and sent
// many times at once from there (a client's workers, let past the
// address's budget as the key is remembered) is looked up once: the
// requests share the lookup under way, where each had its own, every one
// of them to be refused.
func TestARevokedKeySentManyTimesAtOnceIsLookedUpOnce(t *testing.T) {
	const sent, address = 20, "192.0.2.80"
	st, url, lookups := keyLookupStore(t)
	tenantID, key := budgetTenant(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	resp, err := getCatalog(t.Context(), env, key, address)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, st.RevokeKeyAllowingLastOperator(t.Context(), tenantID, key, time.Now()))
	blocked, release := holdKeyLookups(t, url)
	before := lookups()

	answers := sendAtOnce(t, env, sent, each(key), address)
	require.Eventually(t, func() bool { return blocked() >= 1 }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the rest arrive meanwhile
	assert.Equal(t, 1, blocked(), "lookups under way at once")
	release()
	statuses := answers()
	// A request arriving late, as the shared lookup ends but before its
	// refusal forgets the key, may have one of its own: the rest are 429.
	assert.LessOrEqual(t, lookups()-before, 2, "lookups in all")
	assert.Equal(t, sent, statusCount(statuses, http.StatusUnauthorized)+statusCount(statuses, http.StatusTooManyRequests), "%v", statuses)
}
