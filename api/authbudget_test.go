package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// budgetEnv serves st with a budget of one failed authentication per
// address that takes ten seconds to come back: no test here waits that
// long, so a 429 after the first failure is the budget's, however slowly
// the test runs. Its peers in proxies may name the client in
// X-Forwarded-For. The access log goes to log.
func budgetEnv(t *testing.T, st *store.Store, log *testkit.LogBuffer, proxies ...string) *testkit.Env {
	t.Helper()
	return budgetEnvAt(t, st, log, 0.1, proxies...)
}

// budgetEnvAt is budgetEnv with a budget of limit failed authentications a
// second per address, in bursts of twice that.
func budgetEnvAt(t *testing.T, st *store.Store, log *testkit.LogBuffer, limit rate.Limit, proxies ...string) *testkit.Env {
	t.Helper()
	var trusted []netip.Prefix
	for _, p := range proxies {
		trusted = append(trusted, netip.MustParsePrefix(p))
	}
	logger := quiet
	if log != nil {
		logger = slog.New(slog.NewJSONHandler(log, nil))
	}
	srv := httptest.NewServer(api.NewRouter(api.Deps{Store: st, Logger: logger, AuthFailureRate: limit, TrustedProxies: trusted}))
	t.Cleanup(srv.Close)
	return &testkit.Env{T: t, HTTP: srv, Store: st}
}

// budgetTenant stores a tenant with the demo catalog in st and returns it
// with one key of every role.
func budgetTenant(t *testing.T, st *store.Store) (tenantID, key string) {
	t.Helper()
	key, err := auth.NewKey("AB")
	require.NoError(t, err)
	tn, err := st.CreateTenant(t.Context(), store.Tenant{Prefix: "AB", Name: "Auth budget"},
		[]store.NewKey{{Key: key, ActorID: uuid.NewString(), Roles: auth.AllRoles}})
	require.NoError(t, err)
	_, err = st.PutCatalog(t.Context(), tn.ID, uuid.NewString(), demo.Catalog(), time.Now())
	require.NoError(t, err)
	return tn.ID, key
}

// budgetSigningKey stores a tenant (budgetTenant) with a submitter's
// signing key, and returns the key and its id.
func budgetSigningKey(t *testing.T, st *store.Store) (key, id string) {
	t.Helper()
	tenantID, _ := budgetTenant(t, st)
	return addSigningKey(t, st, tenantID)
}

// addSigningKey stores a submitter's signing key for tenantID (of prefix
// AB), and returns the key and its id.
func addSigningKey(t *testing.T, st *store.Store, tenantID string) (key, id string) {
	t.Helper()
	key, err := auth.NewKey("AB")
	require.NoError(t, err)
	id, err = st.AddKey(t.Context(), tenantID, store.NewKey{Key: key, ActorID: uuid.NewString(), Roles: []auth.Role{auth.RoleSubmitter}, Source: auth.SourceHMAC})
	require.NoError(t, err)
	return key, id
}

// from is the header a trusted proxy names the client with.
func from(address string) []string { return []string{"X-Forwarded-For", address} }

const badKey = "ck_ab_not-a-key-of-anyone"

func TestFailedAuthenticationsAnswer429PerAddressInEachSurfacesFormat(t *testing.T) {
	env := budgetEnv(t, testdb.Migrated(t), nil, "127.0.0.1/32")
	paths := []struct{ method, path string }{
		{"GET", "/api/catalog"},
		{"POST", "/api/selfService/contract"},
		{"POST", "/api/customers/" + uuid.NewString() + "/contracts/1/crossgrade"},
		{"POST", schedulePath("AB", uuid.NewString(), "cancelSchedule")},
		{"GET", terminationsPath},
	}
	for i, r := range paths {
		client := from("192.0.2." + strconv.Itoa(i+1))
		first := env.Do(r.method, r.path, badKey, "{}", client...)
		require.Equal(t, http.StatusUnauthorized, first.Status, "%s %s: %s", r.method, r.path, first.Body)
		assert.Contains(t, requireSurfaceError(t, r.path, first), "the API key is not valid")

		second := env.Do(r.method, r.path, badKey, "{}", client...)
		require.Equal(t, http.StatusTooManyRequests, second.Status, "%s %s: %s", r.method, r.path, second.Body)
		retry, err := strconv.Atoi(second.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After: %q", second.Header.Get("Retry-After"))
		assert.InDelta(t, 10, retry, 1)
		assert.Contains(t, requireSurfaceError(t, r.path, second), "too many failed authentications")
		// A request with no key at all waits as well.
		assert.Equal(t, http.StatusTooManyRequests, env.Do(r.method, r.path, "", "{}", client...).Status)
	}
	metrics := string(env.Do("GET", "/metrics", "", nil).Body)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="auth_failures"} 10`)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="api_key"} 0`)
}

// The budget is checked before the credential is looked up: with the
// database gone, a spent address is still answered 429, where an address
// with budget left, whose key is looked up, is answered 503.
func TestASpentAddressIsRefusedWithoutAskingTheDatabase(t *testing.T) {
	st := testdb.Migrated(t)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	spent, other := from("198.51.100.1"), from("198.51.100.2")
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, spent...).Status)
	require.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, spent...).Status)

	require.NoError(t, st.Close()) // every lookup now fails
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, spent...).Status)
	for range 3 { // a lookup that fails is no failure of the client's: it spends nothing
		resp := env.Do("GET", "/api/catalog", badKey, nil, other...)
		assert.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s", resp.Body)
	}
}

// A client behind the same address as one whose keys keep failing (one
// NAT, one proxy) keeps working with a key that authenticated lately; a key
// the service has not seen from it lately waits with the rest, and a
// remembered key that is refused (revoked) is forgotten at once.
func TestAKeyThatAuthenticatedLatelyGetsPastItsAddressesSpentBudget(t *testing.T) {
	st := testdb.Migrated(t)
	tenantID, key := budgetTenant(t, st)
	fresh, _, _ := addKey(t, &testkit.Env{T: t, Store: st}, testkit.Tenant{ID: tenantID, Prefix: "AB"}, auth.RoleSubmitter)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	shared, elsewhere := from("203.0.113.9"), from("203.0.113.10")

	require.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", key, nil, shared...).Status)
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, shared...).Status)
	require.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, shared...).Status)

	assert.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", key, nil, shared...).Status, "a key that authenticated lately")
	for range 3 {
		assert.Equal(t, http.StatusOK, env.Do("GET", "/api/catalog", key, nil, shared...).Status, "successes spend nothing")
	}
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/contracts", fresh, nil, shared...).Status,
		"a valid key not seen lately cannot be told from a guess before it is looked up")
	require.Equal(t, http.StatusOK, env.Do("GET", "/api/contracts", fresh, nil, elsewhere...).Status)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/contracts", fresh, nil, shared...).Status,
		"a key is remembered where it authenticated, not everywhere")

	require.NoError(t, st.RevokeKeyAllowingLastOperator(t.Context(), tenantID, key, time.Now()))
	revoked := env.Do("GET", "/api/catalog", key, nil, shared...)
	assert.Equal(t, http.StatusUnauthorized, revoked.Status, "looked up, and refused: %s", revoked.Body)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", key, nil, shared...).Status, "and forgotten")
}

// A signing key is remembered by its id, where it authenticated: a signed
// request that then fails there (a signature not its key's) is refused
// once and the id forgotten. A stranger elsewhere refused with the id,
// which travels in the clear, forgets nothing: a probe locked a signed
// client out behind a noisy address with one such request.
func TestASigningKeyThatAuthenticatedLatelyGetsPastItsAddressesSpentBudget(t *testing.T) {
	st := testdb.Migrated(t)
	key, id := budgetSigningKey(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	shared := from("203.0.113.20")
	signed := func(signer string) testkit.Response {
		return env.Do("GET", "/api/catalog", "", nil, append(shared,
			"X-Key-Id", id, "X-Signature", signature(signer, "GET", "/api/catalog", time.Now(), ""))...)
	}

	require.Equal(t, http.StatusOK, signed(key).Status)
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, shared...).Status)
	assert.Equal(t, http.StatusOK, signed(key).Status)
	stranger := env.Do("GET", "/api/catalog", "", nil, append(from("203.0.113.21"),
		"X-Key-Id", id, "X-Signature", signature("not the key", "GET", "/api/catalog", time.Now(), ""))...)
	require.Equal(t, http.StatusUnauthorized, stranger.Status)
	assert.Equal(t, http.StatusOK, signed(key).Status, "a stranger's refusal elsewhere forgets nothing here")
	assert.Equal(t, http.StatusUnauthorized, signed("not the key").Status)
	assert.Equal(t, http.StatusTooManyRequests, signed("not the key").Status)
	assert.Equal(t, http.StatusTooManyRequests, signed(key).Status, "the id was forgotten")
}

// A signed request whose body cannot be read (here too large, sent
// without a length) failed to authenticate, and is charged to its address
// like a refusal. Uncharged, anyone knowing a signing key's id (sent in
// the clear) could have its key looked up, and bodies read, without end.
func TestASignedRequestWhoseBodyCannotBeReadSpendsTheBudget(t *testing.T) {
	st := testdb.Migrated(t)
	key, id := budgetSigningKey(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")

	body := io.MultiReader(strings.NewReader("{"), strings.NewReader(strings.Repeat(" ", api.MaxBodyBytes))) // no length: sent chunked
	req, err := http.NewRequestWithContext(t.Context(), "POST", env.HTTP.URL+"/api/contract-actions", body)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", "198.51.100.30")
	req.Header.Set("X-Key-Id", id)
	req.Header.Set("X-Signature", signature(key, "POST", "/api/contract-actions", time.Now(), "{"))
	resp, err := env.HTTP.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.30")...).Status)
}

// Only a configured proxy may name the client in X-Forwarded-For: from any
// other peer the header changes nothing, and X-Real-IP is never read. The
// address the budget counts is the one the access log shows.
func TestForwardedForNamesTheClientOnlyFromATrustedProxy(t *testing.T) {
	st := testdb.Migrated(t)
	for _, proxies := range [][]string{nil, {"10.0.0.0/8", "::1/128"}} {
		var log testkit.LogBuffer
		env := budgetEnv(t, st, &log, proxies...)
		require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, "X-Forwarded-For", "198.51.100.1").Status)
		assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, "X-Forwarded-For", "198.51.100.2").Status,
			"trusting %v, a peer at 127.0.0.1 is the client", proxies)
		assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, "X-Real-IP", "198.51.100.3").Status)
		assert.Contains(t, log.String(), `"client":"127.0.0.1"`)
		assert.NotContains(t, log.String(), "198.51.100.")
	}

	var log testkit.LogBuffer
	env := budgetEnv(t, st, &log, "127.0.0.1/32")
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.1")...).Status)
	assert.Contains(t, log.String(), `"client":"198.51.100.1"`)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.1")...).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.2")...).Status)
	// The proxy appends the address it saw to what the client sent: the
	// client's own entries are not believed.
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.3, 198.51.100.1")...).Status)
	// A chain of trusted proxies is walked back to the first address not one of them.
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from("198.51.100.2, 127.0.0.1")...).Status)
	// X-Real-IP is not read even from a trusted proxy: both are the proxy's own address.
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, "X-Real-IP", "198.51.100.4").Status)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, "X-Real-IP", "198.51.100.5").Status)
	// An IPv6 client is its /64.
	require.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, from("2001:db8::1")...).Status)
	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from("2001:db8::2")...).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Do("GET", "/api/catalog", badKey, nil, from("2001:db8:0:1::1")...).Status)
}
