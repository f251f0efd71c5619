package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// webhookEvent is what a receiver reads of a delivered event.
type webhookEvent struct {
	ID          string          `json:"id"`
	Sequence    int64           `json:"sequence"`
	TenantID    string          `json:"tenantId"`
	Type        string          `json:"type"`
	OccurredAt  time.Time       `json:"occurredAt"`
	RecordedAt  time.Time       `json:"recordedAt"`
	ContractID  string          `json:"contractId"`
	AmendmentID string          `json:"amendmentId"`
	Data        json.RawMessage `json:"data"`
}

// receiver is a subscriber's endpoint on loopback. It checks every request's
// signature from the scheme's definition and keeps a log of the events it
// accepted, de-duplicated by Webhook-Id as a careful subscriber would.
type receiver struct {
	server *httptest.Server
	mu     sync.Mutex
	secret string
	answer int
	// calls holds the Webhook-Id of every request, duplicates included.
	calls    []string
	accepted []webhookEvent
	// rejected counts requests whose signature or id did not check out.
	rejected int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{answer: http.StatusOK}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.server.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get("Webhook-Id")
	r.calls = append(r.calls, id)
	var ev webhookEvent
	if !signedWith(r.secret, req.Header, body) || json.Unmarshal(body, &ev) != nil || ev.ID != id {
		r.rejected++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(r.answer)
	if r.answer != http.StatusOK {
		_, _ = io.WriteString(w, "the receiver is down")
		return
	}
	if !slices.ContainsFunc(r.accepted, func(seen webhookEvent) bool { return seen.ID == id }) {
		r.accepted = append(r.accepted, ev)
	}
}

// signedWith verifies a Standard Webhooks signature, recent and made with secret.
func signedWith(secret string, h http.Header, body []byte) bool {
	ts, err := strconv.ParseInt(h.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("Webhook-Id") + "." + h.Get("Webhook-Timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("Webhook-Signature")))
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

func (r *receiver) setAnswer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = status
}

func (r *receiver) log() (calls []string, accepted []webhookEvent, rejected int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls), slices.Clone(r.accepted), r.rejected
}

// waitForEvents waits until the receiver has accepted n distinct events.
func (r *receiver) waitForEvents(t *testing.T, n int) []webhookEvent {
	t.Helper()
	require.Eventually(t, func() bool {
		_, accepted, _ := r.log()
		return len(accepted) >= n
	}, 45*time.Second, 50*time.Millisecond, "the receiver did not get %d events", n)
	_, accepted, rejected := r.log()
	assert.Zero(t, rejected, "requests with a bad signature")
	return accepted
}

// subscribe registers the receiver for events and gives it the secret.
func subscribe(t *testing.T, env *testkit.Env, r *receiver, events ...string) map[string]any {
	t.Helper()
	resp := env.Do("POST", "/api/webhooks", env.A.OperatorKey, map[string]any{
		"url": r.server.URL + "/hooks", "events": events, "description": "test receiver",
	})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	w := resp.JSON(t)
	r.setSecret(w["secret"].(string))
	return w
}

type eventFeed struct {
	Items   []webhookEvent `json:"items"`
	HasMore bool           `json:"hasMore"`
}

func events(t *testing.T, env *testkit.Env, query string) eventFeed {
	t.Helper()
	return tenantEvents(t, env, env.A, query)
}

// tenantEvents reads a page of tn's event feed.
func tenantEvents(t *testing.T, env *testkit.Env, tn testkit.Tenant, query string) eventFeed {
	t.Helper()
	resp := env.Do("GET", "/api/events?"+query, tn.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var feed eventFeed
	resp.Decode(t, &feed)
	return feed
}

// byContract groups event ids by contract, in the order given.
func byContract(evs []webhookEvent) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		out[e.ContractID] = append(out[e.ContractID], e.ID)
	}
	return out
}

func typesOf(evs []webhookEvent, contractID string) []string {
	var out []string
	for _, e := range evs {
		if e.ContractID == contractID {
			out = append(out, e.Type)
		}
	}
	return out
}

type deliveryList struct {
	Items []deliveryItem `json:"items"`
}

type deliveryItem struct {
	ID            string `json:"id"`
	EventID       string `json:"eventId"`
	EventType     string `json:"eventType"`
	Status        string `json:"status"`
	FailureReason string `json:"failureReason"`
	RedeliveryOf  string `json:"redeliveryOf"`
	Attempts      []struct {
		Attempt      int    `json:"attempt"`
		StatusCode   *int   `json:"statusCode"`
		LatencyMs    *int64 `json:"latencyMs"`
		Error        string `json:"error"`
		ResponseBody string `json:"responseBody"`
	} `json:"attempts"`
}

func deliveries(t *testing.T, env *testkit.Env, webhookID string) deliveryList {
	t.Helper()
	resp := env.Do("GET", "/api/webhooks/"+webhookID+"/deliveries", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var list deliveryList
	resp.Decode(t, &list)
	return list
}

// settledDeliveries waits until none of a subscription's deliveries is
// pending: a receiver has an event a moment before its delivery is recorded.
func settledDeliveries(t *testing.T, env *testkit.Env, webhookID string) deliveryList {
	t.Helper()
	var list deliveryList
	require.Eventually(t, func() bool {
		list = deliveries(t, env, webhookID)
		return !slices.ContainsFunc(list.Items, func(d deliveryItem) bool { return d.Status == "PENDING" })
	}, 30*time.Second, 50*time.Millisecond, "deliveries still pending")
	return list
}

func TestWebhookEventsAreSignedAndArriveInOrderPerContract(t *testing.T) {
	env := newAmendmentEnv(t)
	rcv := newReceiver(t)
	hook := subscribe(t, env, rcv, store.EventTypes...)
	assert.Equal(t, "ACTIVE", hook["status"])
	assert.True(t, strings.HasPrefix(hook["secret"].(string), "whsec_"))
	listed := env.Do("GET", "/api/webhooks", env.A.OperatorKey, nil).JSON(t)["items"].([]any)
	require.Len(t, listed, 1)
	assert.NotContains(t, listed[0], "secret", "the secret is shown once")

	first := fiveSeats(env, nil)["id"].(string)
	second := fiveSeats(env, nil)["id"].(string)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, seats(first, 10)).Status)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, second, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, second, "restartSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	body := cancel(first)
	body["requireApproval"] = true
	id := held(t, env, body)
	require.Equal(t, http.StatusOK, env.Do("POST", "/api/amendments/"+id+"/approve", env.A.ApproverKey, nil).Status)

	feed := events(t, env, "pageSize=500")
	require.False(t, feed.HasMore)
	firstTypes := typesOf(feed.Items, first)
	require.GreaterOrEqual(t, len(firstTypes), 6)
	assert.Equal(t, []string{"contract.created", "amendment.applied", "invoice.created", "amendment.review_required", "amendment.applied", "contract.canceled"},
		firstTypes[:6])
	assert.Equal(t, []string{"contract.created", "schedule.canceled", "schedule.restarted"}, typesOf(feed.Items, second))

	got := rcv.waitForEvents(t, len(feed.Items))
	assert.Len(t, got, len(feed.Items), "every event once")
	assert.Equal(t, byContract(feed.Items), byContract(got), "in order per contract")
	for _, e := range got {
		assert.Equal(t, env.A.ID, e.TenantID)
		assert.NotEmpty(t, e.Data)
		assert.False(t, e.RecordedAt.IsZero(), "a webhook body says when its event was recorded (wall time)")
	}

	list := settledDeliveries(t, env, hook["id"].(string))
	require.Len(t, list.Items, len(feed.Items))
	for _, d := range list.Items {
		assert.Equal(t, "DELIVERED", d.Status)
		require.NotEmpty(t, d.Attempts)
		last := d.Attempts[len(d.Attempts)-1]
		require.NotNil(t, last.StatusCode)
		assert.Equal(t, http.StatusOK, *last.StatusCode)
		assert.NotNil(t, last.LatencyMs)
	}
	// Another tenant sees none of it.
	assert.Equal(t, http.StatusNotFound, env.Do("GET", "/api/webhooks/"+hook["id"].(string)+"/deliveries", env.B.OperatorKey, nil).Status)
	assert.Empty(t, env.Do("GET", "/api/webhooks", env.B.OperatorKey, nil).JSON(t)["items"])
}

// The receiver is down for a while: each contract's first event is retried
// with backoff and holds the contract's later events back, so when the
// receiver is up again every event arrives, once, in order per contract.
func TestWebhookReceiverDownThenUpGetsEveryEventInOrder(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	rcv := newReceiver(t)
	rcv.setAnswer(http.StatusServiceUnavailable)
	hook := subscribe(t, env, rcv, store.EventContractCreated, store.EventScheduleCancelled, store.EventScheduleRestarted)

	var contracts []string
	for range 2 {
		id := env.CreateContract(nil)["id"].(string)
		contracts = append(contracts, id)
		requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
		requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, id, "restartSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	}
	require.Eventually(t, func() bool {
		calls, _, _ := rcv.log()
		return len(calls) >= 6
	}, 30*time.Second, 50*time.Millisecond, "deliveries are retried while the receiver is down")
	calls, accepted, _ := rcv.log()
	assert.Empty(t, accepted)
	assert.Subset(t, []string{contractCreatedID(t, env, contracts[0]), contractCreatedID(t, env, contracts[1])}, calls,
		"only each contract's first event is tried while it fails")
	rcv.setAnswer(http.StatusOK)

	feed := events(t, env, "")
	require.Len(t, feed.Items, 6)
	got := rcv.waitForEvents(t, 6)
	assert.Len(t, got, 6)
	assert.Equal(t, byContract(feed.Items), byContract(got))
	for _, id := range contracts {
		assert.Equal(t, []string{"contract.created", "schedule.canceled", "schedule.restarted"}, typesOf(got, id))
	}

	retried := 0
	for _, d := range settledDeliveries(t, env, hook["id"].(string)).Items {
		assert.Equal(t, "DELIVERED", d.Status)
		if d.EventType != store.EventContractCreated {
			continue
		}
		require.Greater(t, len(d.Attempts), 1, "retried")
		failed := d.Attempts[0]
		require.NotNil(t, failed.StatusCode)
		assert.Equal(t, http.StatusServiceUnavailable, *failed.StatusCode)
		assert.Equal(t, "the receiver is down", failed.ResponseBody)
		assert.NotNil(t, failed.LatencyMs)
		assert.Equal(t, http.StatusOK, *d.Attempts[len(d.Attempts)-1].StatusCode)
		retried++
	}
	assert.Equal(t, 2, retried)
}

func contractCreatedID(t *testing.T, env *testkit.Env, contractID string) string {
	t.Helper()
	for _, e := range events(t, env, "type=contract.created").Items {
		if e.ContractID == contractID {
			return e.ID
		}
	}
	t.Fatalf("no contract.created event for %s", contractID)
	return ""
}

func TestWebhookAnsweredGoneIsDisabled(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	gone, ok := newReceiver(t), newReceiver(t)
	gone.setAnswer(http.StatusGone)
	goneHook := subscribe(t, env, gone, store.EventContractCreated)
	subscribe(t, env, ok, store.EventContractCreated)

	env.CreateContract(nil)
	ok.waitForEvents(t, 1)
	require.Eventually(t, func() bool {
		for _, w := range env.Do("GET", "/api/webhooks", env.A.OperatorKey, nil).JSON(t)["items"].([]any) {
			if w := w.(map[string]any); w["id"] == goneHook["id"] {
				return w["status"] == "DISABLED"
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)

	// Once the other subscriber has the next event, the disabled one would have had it too.
	env.CreateContract(nil)
	ok.waitForEvents(t, 2)
	calls, _, _ := gone.log()
	assert.Len(t, calls, 1, "a 410 is not retried and ends the subscription")
	list := settledDeliveries(t, env, goneHook["id"].(string))
	require.Len(t, list.Items, 1)
	assert.Equal(t, "FAILED", list.Items[0].Status)
	assert.Contains(t, list.Items[0].FailureReason, "410")
	redeliver := env.Do("POST", "/api/webhooks/"+goneHook["id"].(string)+"/deliveries/"+list.Items[0].ID+"/redeliver", env.A.OperatorKey, nil)
	assert.Equal(t, http.StatusConflict, redeliver.Status, "%s", redeliver.Body)
}

func TestWebhookSecretRotationRedeliveryAndDeletion(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	rcv := newReceiver(t)
	for _, bad := range []map[string]any{
		{"url": "http://93.184.215.14/hooks", "events": []string{"contract.created"}},
		{"url": "ftp://127.0.0.1/hooks", "events": []string{"contract.created"}},
		{"url": rcv.server.URL, "events": []string{}},
		{"url": rcv.server.URL, "events": []string{"contract.renamed"}},
		{"url": rcv.server.URL, "events": []string{"contract.created"}, "description": strings.Repeat("x", 501)},
	} {
		resp := env.Do("POST", "/api/webhooks", env.A.OperatorKey, bad)
		assert.Equal(t, http.StatusBadRequest, resp.Status, "%v: %s", bad, resp.Body)
	}
	assert.Equal(t, http.StatusForbidden, env.Do("POST", "/api/webhooks", env.A.SubmitterKey, map[string]any{"url": rcv.server.URL}).Status)

	hook := subscribe(t, env, rcv, store.EventContractCreated)
	hookPath := "/api/webhooks/" + hook["id"].(string)
	env.CreateContract(nil)
	delivered := rcv.waitForEvents(t, 1)[0]

	rotated := env.Do("POST", hookPath+"/rotate-secret", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, rotated.Status, "%s", rotated.Body)
	secret := rotated.JSON(t)["secret"].(string)
	assert.NotEqual(t, hook["secret"], secret)
	rcv.setSecret(secret)
	var first deliveryItem
	require.Eventually(t, func() bool {
		first = deliveries(t, env, hook["id"].(string)).Items[0]
		return first.Status == "DELIVERED" // recorded a moment after the receiver answered
	}, 30*time.Second, 50*time.Millisecond)
	again := env.Do("POST", hookPath+"/deliveries/"+first.ID+"/redeliver", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	require.Eventually(t, func() bool {
		calls, _, _ := rcv.log()
		return len(calls) == 2
	}, 30*time.Second, 50*time.Millisecond)
	calls, accepted, rejected := rcv.log()
	assert.Equal(t, []string{delivered.ID, delivered.ID}, calls, "sent again under the same Webhook-Id")
	assert.Len(t, accepted, 1)
	assert.Zero(t, rejected, "signed with the new secret")
	list := deliveries(t, env, hook["id"].(string))
	require.Len(t, list.Items, 2)
	assert.Equal(t, first.ID, list.Items[0].RedeliveryOf, "newest first")

	assert.Equal(t, http.StatusNotFound, env.Do("DELETE", hookPath, env.B.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusNoContent, env.Do("DELETE", hookPath, env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("DELETE", hookPath, env.A.OperatorKey, nil).Status)
	assert.Empty(t, env.Do("GET", "/api/webhooks", env.A.OperatorKey, nil).JSON(t)["items"])
	assert.Equal(t, http.StatusNotFound, env.Do("GET", hookPath+"/deliveries", env.A.OperatorKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Do("POST", hookPath+"/deliveries/"+first.ID+"/redeliver", env.A.OperatorKey, nil).Status)
}

// An event whose delivery is still to be sent is not queued again, however
// many redeliveries arrive at once: the receiver would get it once more for
// each.
func TestAPendingDeliveryIsNotRedeliveredAgain(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	rcv := newReceiver(t)
	rcv.setAnswer(http.StatusServiceUnavailable) // the delivery stays pending, retried
	hook := subscribe(t, env, rcv, store.EventContractCreated)
	hookPath := "/api/webhooks/" + hook["id"].(string)
	env.CreateContract(nil)
	var pending deliveryItem
	require.Eventually(t, func() bool {
		items := deliveries(t, env, hook["id"].(string)).Items
		if len(items) == 0 {
			return false
		}
		pending = items[0]
		return len(pending.Attempts) > 0
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "PENDING", pending.Status)

	const sent = 8
	statuses := make(chan int, sent)
	var wg sync.WaitGroup
	for range sent {
		wg.Go(func() {
			statuses <- env.Do("POST", hookPath+"/deliveries/"+pending.ID+"/redeliver", env.A.OperatorKey, nil).Status
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		assert.Equal(t, http.StatusConflict, status)
	}
	assert.Len(t, deliveries(t, env, hook["id"].(string)).Items, 1, "nothing queued beside the pending delivery")

	// Given up (as after 72 hours of retries: set here, with no worker to
	// send anything meanwhile), the delivery is redelivered; given up too,
	// that redelivery and the original are redelivered at once, and the
	// event is queued once whichever of its deliveries a request names.
	env.StopWorker()
	giveUp := func(id string) {
		_, err := env.Store.DB().Exec(`UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL WHERE id = $1`, id)
		require.NoError(t, err)
	}
	giveUp(pending.ID)
	again := env.Do("POST", hookPath+"/deliveries/"+pending.ID+"/redeliver", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	giveUp(again.JSON(t)["id"].(string))
	count := map[int]int{}
	var mu sync.Mutex
	for i := range sent {
		named := []string{pending.ID, again.JSON(t)["id"].(string)}[i%2]
		wg.Go(func() {
			status := env.Do("POST", hookPath+"/deliveries/"+named+"/redeliver", env.A.OperatorKey, nil).Status
			mu.Lock()
			defer mu.Unlock()
			count[status]++
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusConflict: sent - 1}, count)
	assert.Len(t, deliveries(t, env, hook["id"].(string)).Items, 3)
	env.StartWorker()
}

// Every event is written in the transaction of its change: a change that is
// refused, or repeated, or rolled back emits nothing.
func TestWebhookEventsComeOnlyWithTheirChange(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	created := events(t, env, "")
	require.Len(t, created.Items, 1)
	ev := created.Items[0]
	assert.Equal(t, "contract.created", ev.Type)
	assert.Equal(t, id, ev.ContractID)
	assert.Equal(t, env.A.ID, ev.TenantID)
	assert.NoError(t, uuid.Validate(ev.ID))
	assert.Contains(t, string(ev.Data), ct["number"].(string))

	// An idempotent retry of a request creates nothing, and announces nothing.
	key := uuid.NewString()
	action := createBody("ACC-EVENTS", teamItem(nil))
	for range 2 {
		require.Equal(t, http.StatusOK, env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, action, "Idempotency-Key", key).Status)
	}
	assert.Len(t, events(t, env, "type=contract.created").Items, 2)

	cancelPath := schedulePath(env.A.Prefix, id, "cancelSchedule")
	requirePlain(t, scheduleCall(env, cancelPath, env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	assert.Equal(t, http.StatusBadRequest, scheduleCall(env, cancelPath, env.A.SubmitterKey).Status)
	assert.Len(t, events(t, env, "type=schedule.canceled").Items, 1, "a refused change announces nothing")

	bad := change(env, env.A.SubmitterKey, map[string]any{"action": "QUANTITY_CHANGE", "contractId": id, "payload": map[string]any{
		"offerings": []any{map[string]any{"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_nope", "quantity": 1}}}},
	}})
	require.GreaterOrEqual(t, bad.Status, 400, "%s", bad.Body)
	for _, e := range events(t, env, "pageSize=500").Items {
		assert.False(t, strings.HasPrefix(e.Type, "amendment."), "a refused amendment announces nothing: %s", e.Type)
	}

	// When its event cannot be written, the change is rolled back with it.
	ctx := context.Background()
	db := env.Store.DB()
	_, err := db.ExecContext(ctx, `CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$;
		CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_events()`)
	require.NoError(t, err)
	restart := store.ScheduleChange{ID: uuid.NewString(), TenantID: env.A.ID, ContractID: id, Action: domain.RestartSchedule,
		ActorID: env.A.SubmitterActor, Source: "USER", At: env.Clock.Now()}
	_, err = env.Store.ChangeSchedule(ctx, restart)
	require.ErrorContains(t, err, "outbox unavailable")
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"], "the change went with its event")
	_, err = db.ExecContext(ctx, `DROP TRIGGER refuse_events ON outbox_events`)
	require.NoError(t, err)
	_, err = env.Store.ChangeSchedule(ctx, restart)
	require.NoError(t, err)
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"])
	assert.Len(t, events(t, env, "type=schedule.restarted").Items, 1)

	// Billing announces each invoice and each collection once, however often
	// it runs. Dunning keeps collecting meanwhile, so rows and events are
	// counted in one snapshot.
	env.CreateContract(map[string]any{"paymentMethod": "pm_declined"})
	runBilling(t, env, "2026-03-01")
	runBilling(t, env, "2026-03-01")
	var counts struct {
		Invoices       int `db:"invoices"`
		InvoiceEvents  int `db:"invoice_events"`
		Collected      int `db:"collected"`
		CapturedEvents int `db:"captured_events"`
		Declined       int `db:"declined"`
		FailedEvents   int `db:"failed_events"`
	}
	require.NoError(t, db.GetContext(ctx, &counts, `SELECT
		(SELECT count(*) FROM invoices) AS invoices,
		(SELECT count(*) FROM outbox_events WHERE type = 'invoice.created') AS invoice_events,
		(SELECT count(*) FROM invoice_payment_attempts WHERE outcome = 'COLLECTED') AS collected,
		(SELECT count(*) FROM outbox_events WHERE type = 'payment.captured') AS captured_events,
		(SELECT count(*) FROM invoice_payment_attempts WHERE outcome = 'DECLINED') AS declined,
		(SELECT count(*) FROM outbox_events WHERE type = 'payment.failed') AS failed_events`))
	require.Positive(t, counts.Collected)
	require.Positive(t, counts.Declined)
	assert.Equal(t, counts.Invoices, counts.InvoiceEvents)
	assert.Equal(t, counts.Collected, counts.CapturedEvents)
	assert.Equal(t, counts.Declined, counts.FailedEvents)
	failed := events(t, env, "type=payment.failed").Items
	require.NotEmpty(t, failed)
	assert.Contains(t, string(failed[0].Data), `"outcome":"DECLINED"`)
}

func TestEventsFeedPagesInOrder(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	for range 3 {
		env.CreateContract(nil)
	}
	all := events(t, env, "")
	require.Len(t, all.Items, 3)
	for i, e := range all.Items[1:] {
		assert.Greater(t, e.Sequence, all.Items[i].Sequence)
	}
	page := events(t, env, "pageSize=2")
	assert.Len(t, page.Items, 2)
	assert.True(t, page.HasMore)
	rest := events(t, env, fmt.Sprintf("after=%d", page.Items[1].Sequence))
	assert.Equal(t, all.Items[2:], rest.Items)
	assert.False(t, rest.HasMore)

	for _, query := range []string{"after=-1", "after=x", "type=nope", "pageSize=0"} {
		assert.Equal(t, http.StatusBadRequest, env.Do("GET", "/api/events?"+query, env.A.OperatorKey, nil).Status, query)
	}
	assert.Equal(t, http.StatusForbidden, env.Do("GET", "/api/events", env.A.SubmitterKey, nil).Status)
	assert.Empty(t, env.Do("GET", "/api/events", env.B.OperatorKey, nil).JSON(t)["items"], "another tenant's events")
}

// An event carries its contract whole, so on a hostile catalog (product ids
// of '<', six bytes each as JSON escapes them) a page of 500 events ran to
// megabytes: 60 contracts made one page of 5.1 MB. A page stays within
// 4 MiB as sent, the README's bound, and the pages, each read after the last
// event of the one before, list every event once, in order.
func TestEventPagesStayWithinTheirBytes(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	bigOffering(t, env, "<")
	item := teamItem(map[string]any{"planId": "off_big"})
	for i := range 4 { // 15 a request, within what one may create
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, actionsOf("ACC-HOSTILE", repeatItem(item, 15)...),
			"Idempotency-Key", fmt.Sprint("hostile-", i))
		require.Equal(t, http.StatusOK, resp.Status, "%.500s", resp.Body)
	}

	const maxPage = 4 << 20
	var sequences []int64
	pages, after := 0, int64(0)
	for more := true; more; pages++ {
		resp := env.Do("GET", fmt.Sprintf("/api/events?after=%d&pageSize=500", after), env.A.OperatorKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%.500s", resp.Body)
		assert.LessOrEqual(t, len(resp.Body), maxPage, "page %d", pages)
		var page eventFeed
		resp.Decode(t, &page)
		require.NotEmpty(t, page.Items, "a page moves the feed on")
		for _, e := range page.Items {
			sequences = append(sequences, e.Sequence)
		}
		after, more = page.Items[len(page.Items)-1].Sequence, page.HasMore
	}
	assert.Greater(t, pages, 1, "the events are more than one page's bytes")
	want := make([]int64, env.CountRows("outbox_events"))
	for i := range want {
		want[i] = int64(i + 1)
	}
	assert.Equal(t, want, sequences, "every event once, in order")
}

// A tenant has at most 25 subscriptions, each event being delivered to
// every one on its own lanes (hostile probe: 200 subscriptions turned one
// event into 200 deliveries). The 26th, even sent concurrently with others,
// is 409; deleting one makes room; another tenant has its own.
func TestWebhookSubscriptionsAreCappedPerTenant(t *testing.T) {
	env := testkit.New(t)
	rcv := newReceiver(t)
	body := map[string]any{"url": rcv.server.URL + "/hooks", "events": []string{"contract.created"}}
	var wg sync.WaitGroup
	statuses := make([]int, 30)
	ids := make([]string, 30)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := env.Do("POST", "/api/webhooks", env.A.OperatorKey, body)
			statuses[i] = resp.Status
			if resp.Status == http.StatusCreated {
				ids[i] = resp.JSON(t)["id"].(string)
			}
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{http.StatusCreated: 25, http.StatusConflict: 5}, counts)
	list := env.Do("GET", "/api/webhooks", env.A.OperatorKey, nil).JSON(t)
	assert.Len(t, list["items"], 25)

	resp := env.Do("POST", "/api/webhooks", env.A.OperatorKey, body)
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
	assert.Contains(t, requireSurfaceError(t, "/api/webhooks", resp), "at most 25 webhook subscriptions")
	for _, id := range ids {
		if id != "" {
			require.Equal(t, http.StatusNoContent, env.Do("DELETE", "/api/webhooks/"+id, env.A.OperatorKey, nil).Status)
			break
		}
	}
	assert.Equal(t, http.StatusCreated, env.Do("POST", "/api/webhooks", env.A.OperatorKey, body).Status, "room after a deletion")
	assert.Equal(t, http.StatusCreated, env.Do("POST", "/api/webhooks", env.B.OperatorKey, body).Status, "another tenant's own")
}
