package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A signed request's body is read once its key is found, after its place
// among its address's lookups is given up: one whose body is slow to come
// holds no place, and
// another client at the address (one NAT) with a key not remembered there
// is looked up meanwhile. Read within the place, a slow body held it (for
// up to BODY_READ_TIMEOUT), and the other client, after waiting a second
// for it, was refused 429.
func TestASignedRequestsSlowBodyHoldsUpNoLookupFromItsAddress(t *testing.T) {
	st := testdb.Migrated(t)
	tenantID, apiKey := budgetTenant(t, st)
	key, id := addSigningKey(t, st, tenantID)
	env := budgetEnv(t, st, nil, "127.0.0.1/32") // one lookup at a time from an address
	const path, body, address = "/api/contract-actions", "{}", "192.0.2.90"

	conn, answers := signedHeadersAlone(t, env.HTTP.Listener.Addr().String(), path, address, id, signature(key, "POST", path, time.Now(), body), len(body))
	// Asked for as the service starts reading it: the body is being read.
	proceed, err := http.ReadResponse(answers, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusContinue, proceed.StatusCode)

	other := env.Do("GET", "/api/catalog", apiKey, nil, from(address)...)
	assert.Equal(t, http.StatusOK, other.Status, "looked up while the signed body is on its way: %s", other.Body)

	_, err = io.WriteString(conn, body)
	require.NoError(t, err)
	signed, err := http.ReadResponse(answers, nil)
	require.NoError(t, err)
	got, err := io.ReadAll(signed.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, signed.StatusCode, "authenticated, its body then checked: %s", got)
}

// A signed request's body is read only once its key id is found: one
// naming a key id that does not exist is answered 401 without it, and
// charged to its address. Read first, every made-up id had its body (up to
// MaxBodyBytes) read and buffered before it was refused, as many at once
// as an address opened slow connections. The request asks to send its
// body (Expect: 100-continue) and never does: the service answers 401
// rather than asking for it (100 Continue) and waiting.
func TestASignedRequestWithAnUnknownKeyIDIsRefusedWithoutItsBody(t *testing.T) {
	st := testdb.Migrated(t)
	env := budgetEnv(t, st, nil, "127.0.0.1/32") // one failure spends the address's budget
	const path, body, address = "/api/contract-actions", "{}", "192.0.2.91"

	_, answers := signedHeadersAlone(t, env.HTTP.Listener.Addr().String(), path, address, uuid.NewString(), signature("no key", "POST", path, time.Now(), body), len(body))
	answer, err := http.ReadResponse(answers, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, answer.StatusCode, "refused without asking for the body")
	got, err := io.ReadAll(answer.Body)
	require.NoError(t, err)
	assert.Contains(t, string(got), "the key id is not a valid signing key")

	assert.Equal(t, http.StatusTooManyRequests, env.Do("GET", "/api/catalog", badKey, nil, from(address)...).Status,
		"the refusal was charged to the address")
}

// signedHeadersAlone sends a signed POST's headers from address (through
// the trusted proxy), asking to send its body of length bytes
// (Expect: 100-continue) and not sending it, and returns the connection, to
// send the body on, and the reader of its answers.
func signedHeadersAlone(t *testing.T, server, path, address, keyID, sig string, length int) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", server)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second))) // the test's own bound
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: contractd\r\nX-Forwarded-For: %s\r\n"+
		"X-Key-Id: %s\r\nX-Signature: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"Expect: 100-continue\r\n\r\n", path, address, keyID, sig, length)
	require.NoError(t, err)
	return conn, bufio.NewReader(conn)
}
