//go:build faultinject

package faultinject

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/contractd/contractd/internal/bulk"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
)

// receiver is a webhook endpoint counting deliveries per event id.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.got[req.Header.Get("Webhook-Id")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// counts is how many distinct events arrived, and how many deliveries in all.
func (r *receiver) counts() (events, deliveries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		deliveries += n
	}
	return len(r.got), deliveries
}

func (r *receiver) missing(ids []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, id := range ids {
		if r.got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// billingRun is what GET /api/billing/runs/{id} shows.
type billingRun struct {
	Status    string
	Due       int
	Checked   int
	Invoiced  int
	Collected int
	Declined  int
	Failed    int
	Skipped   int
}

func (c *client) billingRun(ctx context.Context, id string) (billingRun, int) {
	r := c.call(ctx, "run", "GET", "/api/billing/runs/"+id, demo.OperatorKey, nil, "")
	num := func(k string) int { f, _ := r.body[k].(float64); return int(f) }
	status, _ := r.body["status"].(string)
	return billingRun{Status: status, Due: num("due"), Checked: num("checked"), Invoiced: num("invoiced"),
		Collected: num("collected"), Declined: num("declined"), Failed: num("failed"), Skipped: num("skipped")}, r.status
}

// TestWorkerKilledMidBillingRun bills thousands of contracts seeded straight
// into Postgres (5 % paying with a declining card), kills the worker with
// SIGKILL while the run is part way, restarts it, and checks that every due
// contract was invoiced once, collected at most once, declined ones left in
// dunning, the run's totals match the database, and every invoice.created
// event reached a webhook receiver.
func TestWorkerKilledMidBillingRun(t *testing.T) {
	const declinedPercent = 5
	contracts := scale(10_000, 1_000)
	c := newCluster(t, "WEBHOOK_ALLOW_INSECURE=true", "BILLING_RUN_WAIT=100ms")
	api := newClient(c.baseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)

	seeded := time.Now()
	ids, err := bulk.Contracts(ctx, c.db, "DEMO", contracts, bulk.Options{DeclinedPercent: declinedPercent})
	require.NoError(t, err)
	seedTook := time.Since(seeded)

	hooks := newReceiver(t)
	sub := api.send(ctx, "webhook", "POST", "/api/webhooks", demo.OperatorKey, map[string]any{
		"url": hooks.srv.URL + "/hooks", "events": []string{"invoice.created"}, "description": "fault injection",
	}, "")
	require.Equal(t, http.StatusCreated, sub.status, "subscribe: %v", sub.body)

	asOf := time.Now().UTC().Format(time.DateOnly)
	started := time.Now()
	r := api.send(ctx, "run", "POST", "/api/billing/run", demo.OperatorKey, map[string]any{"asOf": asOf}, "")
	require.Equal(t, http.StatusAccepted, r.status, "a run of %d contracts outlasts BILLING_RUN_WAIT: %v", contracts, r.body)
	runID, _ := r.body["runId"].(string)
	require.Equal(t, asOf, runID)

	// Kill the worker once the run is part way: some invoices issued and
	// not every one collected.
	var invoicedAtKill, collectedAtKill int
	var progressAtKill billingRun
	deadline := time.Now().Add(2 * time.Minute)
	for {
		require.NoError(t, c.db.Get(&invoicedAtKill, `SELECT count(*) FROM invoices WHERE kind = 'RECURRING' AND contract_id = ANY($1::uuid[])`, pq.Array(ids)))
		require.NoError(t, c.db.Get(&collectedAtKill, `SELECT count(*) FROM invoice_payment_attempts a JOIN invoices i ON i.id = a.invoice_id
			WHERE i.contract_id = ANY($1::uuid[])`, pq.Array(ids)))
		if invoicedAtKill > 0 && collectedAtKill < contracts {
			c.worker.kill()
			progressAtKill, _ = api.billingRun(ctx, runID)
			break
		}
		require.Less(t, collectedAtKill, contracts, "the run ended before the worker could be killed part way")
		require.True(t, time.Now().Before(deadline), "no invoice issued 2 min after the run started\nworker log:\n%s", c.worker.logTail())
		time.Sleep(20 * time.Millisecond)
	}
	killedAt := time.Since(started)
	t.Logf("worker killed %s into the run: %d of %d seeded contracts invoiced, %d collection attempts recorded; the run showed %+v",
		killedAt.Round(time.Millisecond), invoicedAtKill, contracts, collectedAtKill, progressAtKill)
	time.Sleep(time.Second)
	c.worker.start()

	// Wait, bounded, for the run to finish.
	var run billingRun
	deadline = time.Now().Add(scaleDuration(20*time.Minute, 10*time.Minute))
	for {
		var status int
		run, status = api.billingRun(ctx, runID)
		if status == http.StatusOK && run.Status != "RUNNING" {
			break
		}
		require.True(t, time.Now().Before(deadline), "billing run %s still not finished %s after it started (last seen HTTP %d %+v)\nworker log:\n%s",
			runID, time.Since(started).Round(time.Second), status, run, c.worker.logTail())
		time.Sleep(250 * time.Millisecond)
	}
	runTook := time.Since(started)
	require.Equal(t, "COMPLETED", run.Status, "billing run %s: %+v\nworker log:\n%s", runID, run, c.worker.logTail())
	t.Logf("billing run finished in %s: %+v", runTook.Round(time.Millisecond), run)

	c.checkBilling(t, ids, declinedPercent, run)

	// Every invoice.created event reaches the receiver at least once.
	var events []string
	require.NoError(t, c.db.Select(&events, `SELECT id FROM outbox_events WHERE type = 'invoice.created' AND contract_id = ANY($1::uuid[]) ORDER BY seq`, pq.Array(ids)))
	require.Len(t, events, contracts)
	deliveryStart := time.Now()
	deadline = time.Now().Add(time.Duration(contracts/2)*time.Second + 2*time.Minute)
	for {
		missing := hooks.missing(events)
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var pending map[string]int
			pending = c.countsByStatus(t, "webhook_deliveries")
			t.Fatalf("%d of %d invoice.created events never reached the receiver %s after the run (deliveries by status %v), such as %v",
				len(missing), len(events), time.Since(deliveryStart).Round(time.Second), pending, missing[:min(5, len(missing))])
		}
		time.Sleep(250 * time.Millisecond)
	}
	received, deliveries := hooks.counts()
	var notDelivered int
	require.NoError(t, c.db.Get(&notDelivered, `SELECT count(*) FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE e.type = 'invoice.created' AND d.status <> 'DELIVERED' AND d.redelivery_of IS NULL`))
	assert.Zero(t, notDelivered, "invoice.created deliveries not marked DELIVERED once received")
	total := time.Since(started)
	t.Logf("webhooks: %d invoice.created events received (%d deliveries, %d repeated) %s after the run ended, all %s after it started",
		received, deliveries, deliveries-received, (total - runTook).Round(time.Millisecond), total.Round(time.Millisecond))

	c.checkInvariants(t, expectation{statuses: map[string]int{}, captures: run.Collected})
	assert.True(t, c.worker.running(), "the restarted worker is still running")
	t.Logf("%d contracts (%d %% %s) seeded in %s; worker killed %s into the run with %d invoiced; run finished after %s; %s",
		contracts, declinedPercent, payments.MethodDeclined, seedTook.Round(time.Millisecond), killedAt.Round(time.Millisecond),
		invoicedAtKill, runTook.Round(time.Millisecond), api.summary())
}

func scaleDuration(full, short time.Duration) time.Duration {
	if testing.Short() {
		return short
	}
	return full
}

// checkBilling asserts what a billing run must leave in the database for the
// seeded contracts, and that the run's totals count it.
func (c *cluster) checkBilling(t *testing.T, ids []string, declinedPercent int, run billingRun) {
	t.Helper()
	n := len(ids)
	contracts := pq.Array(ids)
	count := func(what, query string, args ...any) int {
		var v int
		require.NoError(t, c.db.Get(&v, query, args...), what)
		return v
	}
	// Exactly one invoice per contract and period, and every due contract invoiced.
	assert.Zero(t, count("duplicates", `SELECT count(*) FROM (SELECT 1 FROM invoices WHERE kind = 'RECURRING'
		GROUP BY contract_id, period_start HAVING count(*) > 1) d`), "contracts invoiced twice for a period")
	assert.Zero(t, count("uninvoiced", `SELECT count(*) FROM contracts c WHERE c.id = ANY($1::uuid[]) AND NOT EXISTS (
		SELECT 1 FROM invoices i WHERE i.contract_id = c.id AND i.kind = 'RECURRING' AND i.period_start = c.effective_date)`, contracts),
		"due contracts not invoiced")
	assert.Equal(t, n, count("invoices", `SELECT count(*) FROM invoices WHERE kind = 'RECURRING' AND contract_id = ANY($1::uuid[])`, contracts),
		"recurring invoices of the seeded contracts")
	// Each invoice is its contract's whole month: the lines add up to the
	// total, and the total is what the contract's line costs a month.
	assert.Zero(t, count("amounts", `SELECT count(*) FROM invoices i WHERE i.contract_id = ANY($1::uuid[]) AND (
		i.total <> $2 OR i.total <> (SELECT coalesce(sum((l->>'amount')::bigint), 0) FROM jsonb_array_elements(i.lines) l))`,
		contracts, bulk.RecurringAmount), "invoices whose lines or total differ from the contract's monthly price")

	// Collections: one attempt 0 per invoice, at most one success, and the
	// provider asked once: one capture per paid invoice, none for a declined.
	declined := count("declined contracts", `SELECT count(*) FROM contracts WHERE id = ANY($1::uuid[]) AND payment_method = $2`,
		contracts, payments.MethodDeclined)
	assert.Equal(t, n*declinedPercent/100, declined, "contracts paying with %s", payments.MethodDeclined)
	assert.Zero(t, count("attempts", `SELECT count(*) FROM invoices i WHERE i.contract_id = ANY($1::uuid[])
		AND (SELECT count(*) FROM invoice_payment_attempts a WHERE a.invoice_id = i.id) <> 1`, contracts),
		"invoices without exactly one collection attempt")
	assert.Zero(t, count("double collections", `SELECT count(*) FROM (SELECT invoice_id FROM invoice_payment_attempts
		WHERE outcome = 'COLLECTED' GROUP BY invoice_id HAVING count(*) > 1) d`), "invoices collected twice")
	assert.Zero(t, count("double captures", `SELECT count(*) FROM (SELECT split_part(idempotency_key, '/', 2) FROM sandbox_ledger
		WHERE operation = 'CAPTURE' AND idempotency_key LIKE 'invoice/%' GROUP BY 1 HAVING count(*) > 1) d`), "invoices captured twice at the provider")
	assert.Zero(t, count("wrong outcome", `SELECT count(*) FROM invoices i JOIN contracts c ON c.id = i.contract_id
		JOIN invoice_payment_attempts a ON a.invoice_id = i.id AND a.attempt = 0
		WHERE c.id = ANY($1::uuid[]) AND a.outcome <> CASE WHEN c.payment_method = $2 THEN 'DECLINED' ELSE 'COLLECTED' END`,
		contracts, payments.MethodDeclined), "first collections whose outcome is not the payment method's")
	assert.Zero(t, count("unsettled", `SELECT count(*) FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE c.id = ANY($1::uuid[]) AND c.payment_method = $2 AND (i.status <> $3 OR i.amount_due <> 0
			OR (SELECT count(*) FROM sandbox_ledger l WHERE l.operation = 'CAPTURE' AND l.approved
				AND l.idempotency_key LIKE 'invoice/' || i.id || '/%') <> 1)`,
		contracts, payments.MethodOK, domain.InvoicePaid), "pm_ok invoices not PAID by one capture")

	// Declined invoices stay UNPAID, all of them due, and are in dunning:
	// their DunningWorkflow runs, waiting for the first retry.
	var unpaid []flow.InvoiceRef
	require.NoError(t, c.db.Select(&unpaid, `SELECT i.id AS invoiceid, i.tenant_id AS tenantid FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE c.id = ANY($1::uuid[]) AND c.payment_method = $2 AND i.status = $3 AND i.amount_due = i.total
			AND NOT EXISTS (SELECT 1 FROM sandbox_ledger l WHERE l.operation = 'CAPTURE' AND l.idempotency_key LIKE 'invoice/' || i.id || '/%')`,
		contracts, payments.MethodDeclined, domain.InvoiceUnpaid))
	assert.Len(t, unpaid, declined, "declined invoices UNPAID with all of it due and nothing captured")
	temporal := c.temporalClient(t)
	defer temporal.Close()
	var notDunning []string
	for _, inv := range unpaid {
		desc, err := temporal.DescribeWorkflowExecution(context.Background(), flow.DunningWorkflowID(inv), "")
		if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			notDunning = append(notDunning, fmt.Sprintf("%s (%v)", inv.InvoiceID, err))
		}
	}
	assert.Empty(t, notDunning, "declined invoices with no running dunning")

	// One invoice.created event per invoice.
	assert.Zero(t, count("events", `SELECT count(*) FROM invoices i WHERE i.kind = 'RECURRING'
		AND (SELECT count(*) FROM outbox_events e WHERE e.type = 'invoice.created' AND e.data->>'id' = i.id::text) <> 1`),
		"recurring invoices without exactly one invoice.created event")

	// The run's totals are what the database holds: every recurring invoice
	// in this cluster was issued by this run.
	assert.Equal(t, count("run invoices", `SELECT count(*) FROM invoices WHERE kind = 'RECURRING' AND billing_run IS NOT NULL`), run.Invoiced, "invoiced")
	assert.Equal(t, count("run collected", `SELECT count(*) FROM invoice_payment_attempts a JOIN invoices i ON i.id = a.invoice_id
		WHERE i.billing_run IS NOT NULL AND a.attempt = 0 AND a.outcome = 'COLLECTED'`), run.Collected, "collected")
	assert.Equal(t, count("run declined", `SELECT count(*) FROM invoice_payment_attempts a JOIN invoices i ON i.id = a.invoice_id
		WHERE i.billing_run IS NOT NULL AND a.attempt = 0 AND a.outcome = 'DECLINED'`), run.Declined, "declined")
	assert.Zero(t, run.Failed, "collections the provider never answered")
	assert.GreaterOrEqual(t, run.Invoiced, n, "the run invoiced every seeded contract")
	if run.Due > 0 {
		// Shown when a worker answered the progress query; the totals of a
		// completed run are its result, which needs none.
		assert.Equal(t, run.Due, run.Checked, "contracts checked of those due")
	}
}
