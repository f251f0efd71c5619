package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/testkit"
)

// A client that sends its headers and then only part of its body, as one
// holding connections open on purpose would, is answered 408 once
// BodyReadTimeout has passed, in the surface's own format, whether it
// declared the body's length (read by the handler) or not (read ahead of
// the rate check), and whether it signed the body (read to check the
// signature) or not; nothing is changed.
func TestABodyThatDoesNotArriveInTimeIsAnswered408(t *testing.T) {
	env := newAmendmentEnv(t)
	slow := env.WithBodyReadTimeout(300 * time.Millisecond)
	ct := fiveSeats(env, nil)
	const selfService = "/api/selfService/contract"
	body, err := json.Marshal(seats(ct["number"].(string), 10))
	require.NoError(t, err)
	half := len(body) / 2
	bearer := "Authorization: Bearer " + env.A.SubmitterKey
	keyID, key := signingKey(t, env, auth.RoleSubmitter)
	// A signed request's body is read to check its signature once its key is found, before anything else.
	signed := fmt.Sprintf("X-Key-Id: %s\r\nX-Signature: %s", keyID, signature(key, "POST", selfService, time.Now(), string(body)))
	declared, chunked := fmt.Sprintf("Content-Length: %d", len(body)), "Transfer-Encoding: chunked"
	firstHalf, firstChunk := string(body[:half]), fmt.Sprintf("%x\r\n%s\r\n", half, body[:half])
	failedChange := func(t *testing.T, answer map[string]any) {
		assert.Equal(t, "FAILED", answer["status"])
		assert.Equal(t, "the request body did not arrive in time", answer["errorMessage"])
	}
	timeoutFault := func(t *testing.T, answer map[string]any) {
		assert.EqualValues(t, 90408, answer["faultCode"])
		assert.Equal(t, "RequestTimeoutFault", answer["fault"])
	}

	for _, tc := range []struct {
		name, path, auth, header, sent string
		check                          func(*testing.T, map[string]any)
	}{
		{"declared length", selfService, bearer, declared, firstHalf, failedChange},
		{"chunked", selfService, bearer, chunked, firstChunk, failedChange},
		{"signed", selfService, signed, declared, firstHalf, failedChange},
		{"crossgrade, declared length", crossgradePath(ct), bearer, declared, firstHalf, timeoutFault},
		{"crossgrade, chunked", crossgradePath(ct), bearer, chunked, firstChunk, timeoutFault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", slow.HTTP.Listener.Addr().String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = conn.Close() })
			_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: contractd\r\n%s\r\n"+
				"Content-Type: application/json\r\n%s\r\n\r\n%s", tc.path, tc.auth, tc.header, tc.sent)
			require.NoError(t, err)

			// The test's own bound: without the server's, no answer would come.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "the server answers a body that stopped arriving")
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s", got)
			var answer map[string]any
			require.NoError(t, json.Unmarshal(got, &answer), "%s", got)
			tc.check(t, answer)
		})
	}
	assert.EqualValues(t, 1, contractVersion(t, env, ct["id"].(string)), "nothing changed")
}

// The bound is on the body alone: a change whose body arrived at once but
// whose workflow answers only after BodyReadTimeout (its contract is held
// meanwhile) is answered with what its workflow did, not ended as if its
// client had gone.
func TestAChangeAnsweredAfterTheBodyTimeoutIsAnswered(t *testing.T) {
	env := newAmendmentEnv(t)
	const timeout = 200 * time.Millisecond
	slow := env.WithBodyReadTimeout(timeout)
	ct := fiveSeats(env, nil)
	held := holdContract(t, env, ct["id"].(string))

	answered := make(chan int, 1)
	go func() { answered <- change(slow, env.A.SubmitterKey, seats(ct["number"].(string), 10)).Status }()
	waitForLockWait(t, env, "contracts")
	time.Sleep(5 * timeout) // the request outlives its body's deadline, waiting for its workflow
	require.NoError(t, held.Rollback())

	assert.Equal(t, http.StatusOK, <-answered)
	assert.EqualValues(t, 2, contractVersion(t, env, ct["id"].(string)))
}

// A client that asks to be told before it sends its body (`Expect:
// 100-continue`, as curl does for a large one) and is refused before the
// body is needed (no key here, on a surface whose refusal does not echo
// the body) is answered at once, and the connection closed; one that is
// let in is told to go on, and its change is made.
// net/http answers without the body only when its request's body is still
// its own reader: with the capped body on its request, the refusal waits
// for a body the client was never asked for, until BodyReadTimeout passes
// (the test's bound fails it first).
func TestAClientWaitingToSendItsBodyIsAnsweredWithoutIt(t *testing.T) {
	env := newAmendmentEnv(t)
	patient := env.WithBodyReadTimeout(time.Minute)
	ct := fiveSeats(env, nil)
	body, err := json.Marshal(seats(ct["number"].(string), 10))
	require.NoError(t, err)
	ask := func(t *testing.T, path, auth string) (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", patient.HTTP.Listener.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: contractd\r\n%sContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", path, auth, len(body))
		require.NoError(t, err)
		// The test's own bound, well inside the server's minute.
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
		return conn, bufio.NewReader(conn)
	}

	t.Run("refused", func(t *testing.T) {
		_, r := ask(t, "/api/amendments/"+uuid.NewString()+"/approve", "")
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err, "answered without the body")
		defer resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.True(t, resp.Close, "the body it did not send is not waited for on the connection either")
	})
	t.Run("let in", func(t *testing.T) {
		conn, r := ask(t, "/api/selfService/contract", "Authorization: Bearer "+env.A.SubmitterKey+"\r\n")
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusContinue, resp.StatusCode)
		_, err = conn.Write(body)
		require.NoError(t, err)
		resp, err = http.ReadResponse(r, nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", got)
	})
	assert.EqualValues(t, 2, contractVersion(t, env, ct["id"].(string)), "the change let in, once")
}

// stalled sends a POST declaring a body of 200 bytes and sends none of it;
// it returns the answer's status, Content-Type and body.
func stalled(t *testing.T, slow *testkit.Env, path, key string) (int, string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", slow.HTTP.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: contractd\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n", path, key)
	require.NoError(t, err)
	// The test's own bound: without the server's, no answer would come.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server answers a body that never arrived")
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(got)
}

// A request's body is read, within BodyReadTimeout, before its route decides
// or changes anything, whether its handler reads a body (crossgrade, which
// looks its customer up first) or takes none (DDCMS): a probe's
// restartSchedule declaring a body it never sent had the schedule restarted,
// its answer held until the deadline, then 200; a crossgrade for an unknown
// customer, a 404 after it. Both are now 408 in the surface's format, and
// nothing is changed.
func TestABodyThatNeverArrivesIs408BeforeAnythingIsDecided(t *testing.T) {
	env := newAmendmentEnv(t)
	slow := env.WithBodyReadTimeout(300 * time.Millisecond)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	history := func() int { return len(scheduleOf(t, env, id)["history"].([]any)) }

	status, kind, body := stalled(t, slow, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey)
	assert.Equal(t, http.StatusRequestTimeout, status, "%s", body)
	assert.True(t, strings.HasPrefix(kind, "text/plain"), kind)
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"], "not cancelled")
	assert.Equal(t, 1, history())

	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	cancelled := scheduleOf(t, env, id)
	status, kind, body = stalled(t, slow, schedulePath(env.A.Prefix, id, "restartSchedule"), env.A.SubmitterKey)
	assert.Equal(t, http.StatusRequestTimeout, status, "%s", body)
	assert.True(t, strings.HasPrefix(kind, "text/plain"), kind)
	assert.Equal(t, cancelled, scheduleOf(t, env, id), "not restarted")

	unknown := fmt.Sprintf("/api/customers/%s/contracts/%s/crossgrade", uuid.NewString(), formatRef(ct["ref"]))
	status, _, body = stalled(t, slow, unknown, env.A.SubmitterKey)
	assert.Equal(t, http.StatusRequestTimeout, status, "%s", body)
	assert.Contains(t, body, `"faultCode":90408`)

	status, _, body = stalled(t, slow, "/api/amendments/"+uuid.NewString()+"/withdraw", env.A.SubmitterKey)
	assert.Equal(t, http.StatusRequestTimeout, status, "%s", body)
	assert.EqualValues(t, 1, contractVersion(t, env, id), "nothing changed")
}
