//go:build faultinject

package faultinject

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	temporalclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/testkit/invariants"
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
	return c.countsByStatus(t, "amendments")
}

// countsByStatus counts table's rows (amendments, webhook_deliveries) by
// their status column.
func (c *cluster) countsByStatus(t *testing.T, table string) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	require.NoError(t, c.db.Select(&rows, `SELECT status, count(*) AS n FROM `+table+` GROUP BY status`))
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

// checkInvariants asserts every invariant of internal/testkit/invariants,
// Temporal's side included (whatever crashed, the database and the
// workflows must agree), then the scenario's own expectations (how many
// amendments ended in each status, how many payments were captured) and the
// settlement ledger (checkLedger). The invariants come first: they give
// each amendment's workflow a minute to end where its amendment has, as an
// upgrade's workflow captures its payment after the amendment is APPLIED,
// and later if a worker died with the capture.
func (c *cluster) checkInvariants(t *testing.T, want expectation) {
	t.Helper()
	temporal, err := temporalclient.Dial(temporalclient.Options{HostPort: c.temporalAddr, Namespace: config.DefaultTemporalNamespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	defer temporal.Close()
	invariants.Require(t, c.db, temporal, time.Minute)

	assert.Equal(t, want.statuses, c.statusCounts(t), "amendments by status")
	var captures, voids int
	require.NoError(t, c.db.Get(&captures, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	require.NoError(t, c.db.Get(&voids, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'VOID'`))
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
