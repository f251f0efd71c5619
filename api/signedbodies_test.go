package api_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/testkit"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// signedBody is a signed request whose body the service asked for (100
// Continue) and has not been sent: the service is reading it.
type signedBody struct {
	conn    net.Conn
	answers *bufio.Reader
}

// signedSender sends the headers of signed POSTs of body to path with the
// signing key (key, id) from an address, as signedHeadersAlone does, each
// signed a second before the one before, so that none repeats another's
// signature.
func signedSender(t *testing.T, env *testkit.Env, key, id, path, body string) func(address string) (net.Conn, *bufio.Reader) {
	at := time.Now()
	return func(address string) (net.Conn, *bufio.Reader) {
		at = at.Add(-time.Second)
		return signedHeadersAlone(t, env.HTTP.Listener.Addr().String(), path, address, id, signature(key, "POST", path, at, body), len(body))
	}
}

// bodyBeingRead sends a signed request from address and returns once the
// service has asked for its body.
func bodyBeingRead(t *testing.T, send func(string) (net.Conn, *bufio.Reader), address string) signedBody {
	t.Helper()
	conn, answers := send(address)
	asked := answerOn(t, answers)
	require.Equal(t, http.StatusContinue, asked.Status, "its body is asked for: %s", asked.Body)
	return signedBody{conn, answers}
}

// sent sends b's body and returns the service's answer.
func (b signedBody) sent(t *testing.T, body string) testkit.Response {
	t.Helper()
	_, err := io.WriteString(b.conn, body)
	require.NoError(t, err)
	return answerOn(t, b.answers)
}

// answerOn reads the next answer on a connection.
func answerOn(t *testing.T, answers *bufio.Reader) testkit.Response {
	t.Helper()
	resp, err := http.ReadResponse(answers, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// One address may have MaxSignedBodiesPerAddress signed bodies being read
// at once (8): an integrator's eight parallel changes are all read, and a
// ninth, finding no place within its wait, is answered 429 with
// Retry-After and what to do, in its surface's format. Another address's
// body is read meanwhile, and once one of the eight is answered, the next
// from the address is read. Without the bound, every body from the
// address was read at once, however many, up to 1 MiB each.
func TestSignedBodiesBeingReadFromOneAddressAreBounded(t *testing.T) {
	st := testdb.Migrated(t)
	key, id := budgetSigningKey(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	const path, body, address, other = "/api/contract-actions", "{}", "192.0.2.100", "192.0.2.101"
	send := signedSender(t, env, key, id, path, body)

	var reading []signedBody
	for range api.MaxSignedBodiesPerAddress {
		reading = append(reading, bodyBeingRead(t, send, address))
	}
	// In the crossgrade surface's format, as its other 429s.
	crossgrade := "/api/customers/" + uuid.NewString() + "/contracts/1/crossgrade"
	_, answers := signedSender(t, env, key, id, crossgrade, body)(address)
	refused := answerOn(t, answers)
	require.Equal(t, http.StatusTooManyRequests, refused.Status, "%s", refused.Body)
	assert.Equal(t, "1", refused.Header.Get("Retry-After"))
	assert.Equal(t, map[string]any{
		"faultCode": float64(90429), "fault": "RateLimitFault",
		"message": "too many signed request bodies being received from this address at once (at most 8); " +
			"send fewer in parallel, or retry after the seconds in Retry-After",
	}, refused.JSON(t))

	bodyBeingRead(t, send, other)

	checked := reading[0].sent(t, body)
	assert.Equal(t, http.StatusBadRequest, checked.Status, "authenticated, its body then checked: %s", checked.Body)
	bodyBeingRead(t, send, address)

	metrics := string(env.Do("GET", "/metrics", "", nil).Body)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="signed_bodies"} 1`)
	assert.Contains(t, metrics, `contractd_http_rate_limited_total{budget="auth_failures"} 0`, "no failed authentication")
}

// All addresses together may have MaxUnverifiedSignedBytes of signed
// bodies (64 MiB) being read at once, each counted at its declared length:
// with 64 bodies of 1 MiB asked for, from 8 addresses, a signed body from
// a ninth address, which has none being read, is answered 503 with
// Retry-After; once one of the 64 is answered, it is read.
func TestSignedBodiesBeingReadFromAllAddressesAreBounded(t *testing.T) {
	st := testdb.Migrated(t)
	key, id := budgetSigningKey(t, st)
	env := budgetEnv(t, st, nil, "127.0.0.1/32")
	const path = "/api/contract-actions"
	largest := "{}" + strings.Repeat(" ", api.MaxBodyBytes-2)
	send := signedSender(t, env, key, id, path, largest)

	var reading []signedBody
	for i := range api.MaxUnverifiedSignedBytes / api.MaxBodyBytes {
		reading = append(reading, bodyBeingRead(t, send, "192.0.2."+strconv.Itoa(1+i/api.MaxSignedBodiesPerAddress)))
	}
	const ninth = "198.51.100.9"
	_, answers := send(ninth)
	refused := answerOn(t, answers)
	require.Equal(t, http.StatusServiceUnavailable, refused.Status, "%s", refused.Body)
	assert.Equal(t, "1", refused.Header.Get("Retry-After"))
	assert.Equal(t, "the service is receiving too many signed request bodies right now; retry after the seconds in Retry-After",
		requireSurfaceError(t, path, refused))

	checked := reading[0].sent(t, largest)
	assert.Equal(t, http.StatusBadRequest, checked.Status, "authenticated, its body then checked: %s", checked.Body)
	bodyBeingRead(t, send, ninth)
}
