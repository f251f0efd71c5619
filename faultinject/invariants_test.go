//go:build faultinject

package faultinject

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
// amendments ended in each status, how many payments were captured). The
// invariants, the settlement ledger's among them, come first: they give
// each amendment's workflow a minute to end where its amendment has, as an
// upgrade's workflow captures its payment after the amendment is APPLIED,
// and later if a worker died with the capture.
func (c *cluster) checkInvariants(t *testing.T, want expectation) {
	t.Helper()
	temporal := c.temporalClient(t)
	defer temporal.Close()
	invariants.Require(t, c.db, temporal, time.Minute)

	assert.Equal(t, want.statuses, c.statusCounts(t), "amendments by status")
	var captures, voids int
	require.NoError(t, c.db.Get(&captures, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
	require.NoError(t, c.db.Get(&voids, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'VOID'`))
	assert.Equal(t, want.captures, captures, "payments captured")
	assert.Zero(t, voids, "payments voided")

	t.Log(c.report(want))
}

// report is one line of figures for the README's Reliability table.
func (c *cluster) report(want expectation) string {
	return fmt.Sprintf("amendments %v; captures %d; worker starts %d, api starts %d, temporal starts %d",
		want.statuses, want.captures, c.worker.starts, c.api.starts, c.temporal.starts)
}
