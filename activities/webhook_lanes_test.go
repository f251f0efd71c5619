package activities

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

var laneRetry = webhooks.Retry{InitialInterval: time.Second, MaximumInterval: 8 * time.Second, Window: time.Minute}

// laneReceiver logs the events it gets per contract and answers each
// contract's with the status the test set (200 unless told).
type laneReceiver struct {
	mu      sync.Mutex
	got     map[string][]int64
	answers map[string]int
}

func newLaneReceiver(t *testing.T) (*laneReceiver, store.LaneBatch) {
	r := &laneReceiver{got: map[string][]int64{}, answers: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev store.Event
		if json.Unmarshal(body, &ev) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got[ev.ContractID] = append(r.got[ev.ContractID], ev.Sequence)
		if code, ok := r.answers[ev.ContractID]; ok {
			w.WriteHeader(code)
		}
	}))
	t.Cleanup(srv.Close)
	return r, store.LaneBatch{URL: srv.URL, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}
}

func laneActivities() *Webhooks {
	return NewWebhooks(nil, webhooks.NewSender(webhooks.Config{AllowInsecure: true}), nil)
}

// due makes n deliveries for each contract, interleaved in event order.
func due(n int, contracts ...string) []store.DueDelivery {
	var out []store.DueDelivery
	seq := int64(0)
	for i := range n {
		for _, c := range contracts {
			seq++
			id := c + "-" + strconv.Itoa(i)
			out = append(out, store.DueDelivery{ID: id, ContractID: c, Event: store.Event{Sequence: seq, ID: id, ContractID: c, Data: json.RawMessage(`{}`)}})
		}
	}
	return out
}

func byStatus(outcomes []store.WebhookOutcome) map[string][]string {
	out := map[string][]string{}
	for _, o := range outcomes {
		out[o.Status] = append(out[o.Status], o.DeliveryID)
	}
	return out
}

// Many contracts go out in parallel, each one's events in order.
func TestDeliverWebhooksKeepsEachContractsOrder(t *testing.T) {
	rcv, batch := newLaneReceiver(t)
	contracts := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	batch.Deliveries = due(10, contracts...)
	outcomes := laneActivities().sendBatch(context.Background(), batch, laneRetry, func() {})

	assert.Len(t, byStatus(outcomes)[store.DeliveryDelivered], len(batch.Deliveries))
	for _, c := range contracts {
		var want []int64
		for _, d := range batch.Deliveries {
			if d.ContractID == c {
				want = append(want, d.Sequence)
			}
		}
		assert.Equal(t, want, rcv.got[c], "contract %s in order", c)
	}
}

// A contract whose delivery fails stops there, to be retried after the
// initial interval; another contract's deliveries all go out.
func TestDeliverWebhooksFailingContractBlocksOnlyItself(t *testing.T) {
	rcv, batch := newLaneReceiver(t)
	rcv.answers["bad"] = http.StatusServiceUnavailable
	batch.Deliveries = due(3, "bad", "good")
	before := time.Now()
	outcomes := laneActivities().sendBatch(context.Background(), batch, laneRetry, func() {})

	assert.Equal(t, []int64{1}, rcv.got["bad"], "only its first was tried")
	assert.Equal(t, []int64{2, 4, 6}, rcv.got["good"])
	statuses := byStatus(outcomes)
	assert.Equal(t, []string{"bad-0"}, statuses[store.DeliveryPending])
	assert.ElementsMatch(t, []string{"good-0", "good-1", "good-2"}, statuses[store.DeliveryDelivered])
	for _, o := range outcomes {
		if o.Status == store.DeliveryPending {
			assert.WithinDuration(t, before.Add(laneRetry.InitialInterval), o.NextAttemptAt, time.Second, "retried after the initial interval")
			require.NotNil(t, o.Attempt.StatusCode)
			assert.Equal(t, http.StatusServiceUnavailable, *o.Attempt.StatusCode)
		}
	}
}

// Retries back off from the initial to the maximum interval; a delivery
// whose next retry would fall past the window since its first attempt is
// given up, saying why.
func TestDeliverWebhooksBacksOffThenGivesUp(t *testing.T) {
	rcv, batch := newLaneReceiver(t)
	rcv.answers["bad"] = http.StatusServiceUnavailable
	a := laneActivities()
	d := due(1, "bad")[0]

	d.Attempts = 2
	first := time.Now().Add(-10 * time.Second)
	d.FirstAttemptAt = &first
	o := a.deliverOne(context.Background(), batch, d, laneRetry)
	assert.Equal(t, store.DeliveryPending, o.Status)
	assert.Equal(t, 4*time.Second, o.NextAttemptAt.Sub(o.Attempt.At), "the third failure waits 1s doubled twice")

	d.Attempts = 9
	o = a.deliverOne(context.Background(), batch, d, laneRetry)
	assert.Equal(t, laneRetry.MaximumInterval, o.NextAttemptAt.Sub(o.Attempt.At), "at most the maximum interval")

	first = time.Now().Add(-laneRetry.Window + laneRetry.MaximumInterval/2)
	o = a.deliverOne(context.Background(), batch, d, laneRetry)
	assert.Equal(t, store.DeliveryFailed, o.Status)
	assert.Equal(t, "not delivered within 1m0s: the receiver answered 503 to event bad-0", o.FailureReason)
}

// A 410 Gone ends the batch: nothing more goes to a receiver that asked for
// no more events.
func TestDeliverWebhooksStopsAtGone(t *testing.T) {
	rcv, batch := newLaneReceiver(t)
	rcv.answers["a"] = http.StatusGone
	batch.Deliveries = due(20, "a")
	outcomes := laneActivities().sendBatch(context.Background(), batch, laneRetry, func() {})
	require.Len(t, outcomes, 1)
	assert.True(t, outcomes[0].Gone)
	assert.Equal(t, store.DeliveryFailed, outcomes[0].Status)
}
