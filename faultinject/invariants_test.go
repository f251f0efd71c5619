//go:build faultinject

package faultinject

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settle waits until no amendment is still being worked on (PENDING) and
// returns the count of amendments in each status.
func (c *cluster) settle(t *testing.T, timeout time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		counts := c.statusCounts(t)
		if counts["PENDING"] == 0 {
			return counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("amendments still PENDING after %s: %v\nworker log:\n%s", timeout, counts, c.worker.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *cluster) statusCounts(t *testing.T) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	require.NoError(t, c.db.Select(&rows, `SELECT status, count(*) AS n FROM amendments GROUP BY status`))
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

// expectation is what the database must hold after a scenario.
type expectation struct {
	statuses map[string]int // amendments in each status, exactly
	captures int            // payments captured, exactly
}

// checkInvariants asserts what must hold whatever crashed: every amendment
// in exactly one state with the history to match, contract versions without
// gaps or duplicates, one invoice per applied amendment that raised one,
// every payment authorisation settled exactly once, and the ledger (checkLedger).
func (c *cluster) checkInvariants(t *testing.T, want expectation) {
	t.Helper()
	assert.Equal(t, want.statuses, c.statusCounts(t), "amendments by status")

	// One idempotency key, one amendment (the unique index says so; the
	// count above says none were lost).
	var dupKeys int
	require.NoError(t, c.db.Get(&dupKeys, `SELECT count(*) FROM (SELECT idempotency_key FROM amendments
		WHERE idempotency_key IS NOT NULL GROUP BY tenant_id, idempotency_key HAVING count(*) > 1) d`))
	assert.Zero(t, dupKeys, "idempotency keys with more than one amendment")

	// Each amendment's history holds exactly one terminal event, and it is
	// the amendment's status.
	var badHistory []string
	require.NoError(t, c.db.Select(&badHistory, `
		SELECT a.id || ' ' || a.status || ' terminal events: ' || coalesce(string_agg(e.status, ','), 'none')
		FROM amendments a
		LEFT JOIN amendment_events e ON e.amendment_id = a.id
			AND e.status IN ('APPLIED', 'WITHDRAWN', 'REJECTED', 'EXPIRED', 'FAILED')
		WHERE a.status IN ('APPLIED', 'WITHDRAWN', 'REJECTED', 'EXPIRED', 'FAILED')
		GROUP BY a.id, a.status
		HAVING count(e.id) <> 1 OR min(e.status) <> a.status`))
	assert.Empty(t, badHistory, "amendments whose history disagrees with their status")

	// Contract versions: the applied amendments of a contract were applied on
	// consecutive versions starting at its first, and the contract's version
	// is one past the last; each applied amendment added one segment.
	var badVersions []string
	require.NoError(t, c.db.Select(&badVersions, `
		SELECT c.number || ' version ' || c.version || ', applied on ' || coalesce(string_agg(a.base_version::text, ',' ORDER BY a.base_version), 'nothing')
			|| ', segments ' || (SELECT count(*) FROM contract_segments s WHERE s.contract_id = c.id)
		FROM contracts c
		LEFT JOIN amendments a ON a.contract_id = c.id AND a.status = 'APPLIED'
		GROUP BY c.id
		HAVING c.version <> 1 + count(a.id)
			OR count(DISTINCT a.base_version) <> count(a.id)
			OR (count(a.id) > 0 AND (min(a.base_version) <> 1 OR max(a.base_version) <> count(a.id)))
			OR (SELECT count(*) FROM contract_segments s WHERE s.contract_id = c.id) <> c.version`))
	assert.Empty(t, badVersions, "contracts whose versions have gaps or duplicates")

	// An invoice for each applied amendment whose quote raised one, and
	// none for any other.
	var invoices, expectedInvoices, strayInvoices int
	require.NoError(t, c.db.Get(&invoices, `SELECT count(*) FROM invoices WHERE kind = 'AMENDMENT'`))
	require.NoError(t, c.db.Get(&expectedInvoices, `SELECT count(*) FROM amendments
		WHERE status = 'APPLIED' AND jsonb_typeof(quote -> 'invoicePreview') = 'object'`))
	require.NoError(t, c.db.Get(&strayInvoices, `SELECT count(*) FROM invoices i JOIN amendments a ON a.id = i.amendment_id
		WHERE a.status <> 'APPLIED'`))
	assert.Equal(t, expectedInvoices, invoices, "amendment invoices")
	assert.Zero(t, strayInvoices, "invoices of amendments that were not applied")

	// Every approved authorisation is settled exactly once.
	var unsettled, captures, voids int
	require.NoError(t, c.db.Get(&unsettled, `SELECT count(*) FROM sandbox_ledger a
		WHERE a.operation = 'AUTHORISE' AND a.approved
		AND (SELECT count(*) FROM sandbox_ledger s WHERE s.parent_id = a.id AND s.operation IN ('CAPTURE', 'VOID')) <> 1`))
	require.NoError(t, c.db.Get(&captures, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	require.NoError(t, c.db.Get(&voids, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'VOID'`))
	assert.Zero(t, unsettled, "authorisations not settled exactly once")
	assert.Equal(t, want.captures, captures, "payments captured")
	assert.Zero(t, voids, "payments voided")

	c.checkLedger(t)
	t.Log(c.report(want))
}

// checkLedger asserts that money was collected and credited exactly once:
// every invoice's total is what its payments took, plus the credits applied
// to it, plus what is still due; each credit note's applications add up to
// what it spent; and no more credit was applied than was issued.
func (c *cluster) checkLedger(t *testing.T) {
	t.Helper()
	var unbalanced []string
	require.NoError(t, c.db.Select(&unbalanced, `
		SELECT i.id || ' total ' || i.total || ' = paid ' || p.paid || ' + credited ' || a.credited || ' + due ' || i.amount_due
		FROM invoices i,
			LATERAL (SELECT coalesce(sum(amount), 0) AS paid FROM invoice_payment_attempts
				WHERE invoice_id = i.id AND outcome = 'COLLECTED') p,
			LATERAL (SELECT coalesce(sum(amount), 0) AS credited FROM credit_note_applications WHERE invoice_id = i.id) a
		WHERE i.total >= 0 AND i.total <> p.paid + a.credited + i.amount_due`))
	assert.Empty(t, unbalanced, "invoices whose total is not payments + credits applied + amount due")

	var overspent []string
	require.NoError(t, c.db.Select(&overspent, `
		SELECT n.id || ' amount ' || n.amount || ' remaining ' || n.remaining || ' applied ' || coalesce(sum(a.amount), 0)
		FROM credit_notes n LEFT JOIN credit_note_applications a ON a.credit_note_id = n.id
		GROUP BY n.id HAVING coalesce(sum(a.amount), 0) <> n.amount - n.remaining`))
	assert.Empty(t, overspent, "credit notes whose applications disagree with what they spent")

	var issued, appliedTotal int64
	require.NoError(t, c.db.Get(&issued, `SELECT coalesce(sum(amount), 0) FROM credit_notes`))
	require.NoError(t, c.db.Get(&appliedTotal, `SELECT coalesce(sum(amount), 0) FROM credit_note_applications`))
	assert.LessOrEqual(t, appliedTotal, issued, "credit applied beyond the credit issued")

	var creditsWithoutNote int
	require.NoError(t, c.db.Get(&creditsWithoutNote, `SELECT count(*) FROM invoices i
		WHERE i.total < 0 AND NOT EXISTS (SELECT 1 FROM credit_notes n WHERE n.invoice_id = i.id AND n.amount = -i.total)`))
	assert.Zero(t, creditsWithoutNote, "credits that did not become exactly one credit note")
}

// report is one line of figures for the README's Reliability table.
func (c *cluster) report(want expectation) string {
	return fmt.Sprintf("amendments %v; captures %d; worker starts %d, api starts %d, temporal starts %d",
		want.statuses, want.captures, c.worker.starts, c.api.starts, c.temporal.starts)
}
