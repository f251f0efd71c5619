package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

type billingRun struct {
	billingTotals
	RunID      string     `json:"runId"`
	Status     string     `json:"status"`
	Due        int        `json:"due"`
	Checked    int        `json:"checked"`
	StartedAt  *time.Time `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
}

// A run that outlasts the wait answers 202 with where to follow it; its
// progress ends at the totals a 200 would have answered with.
func TestALongBillingRunIsFollowedToItsTotals(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	for range 2 {
		env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})
	}

	resp := env.WithBillingRunWait(time.Nanosecond).Do("POST", "/api/billing/run", env.A.OperatorKey, map[string]any{"asOf": "2026-03-01"})
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	started := resp.JSON(t)
	assert.Equal(t, map[string]any{"runId": "2026-03-01", "status": "RUNNING", "progress": "/api/billing/runs/2026-03-01"}, started)
	assert.Equal(t, "/api/billing/runs/2026-03-01", resp.Header.Get("Location"))

	var run billingRun
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp := env.Do("GET", "/api/billing/runs/2026-03-01", env.A.OperatorKey, nil)
		require.Equal(c, http.StatusOK, resp.Status, "%s", resp.Body)
		run = billingRun{}
		resp.Decode(t, &run)
		assert.LessOrEqual(c, run.Checked, run.Due)
		assert.Equal(c, "COMPLETED", run.Status)
	}, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, billingTotals{AsOf: "2026-03-01", Invoiced: 6, Collected: 6}, run.billingTotals)
	assert.Equal(t, "2026-03-01", run.RunID)
	assert.Equal(t, 2, run.Due)
	assert.Equal(t, 2, run.Checked)
	require.NotNil(t, run.StartedAt)
	require.NotNil(t, run.FinishedAt)
	assert.False(t, run.FinishedAt.Before(*run.StartedAt))

	// A run that ends within the wait is answered as before, and stays readable.
	assert.Equal(t, billingTotals{AsOf: "2026-03-10"}, runBilling(t, env, "2026-03-10"))
	resp = env.Do("GET", "/api/billing/runs/2026-03-10", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var ended billingRun
	resp.Decode(t, &ended)
	assert.Equal(t, billingRun{billingTotals: billingTotals{AsOf: "2026-03-10"}, RunID: "2026-03-10", Status: "COMPLETED", Due: 2, Checked: 2,
		StartedAt: ended.StartedAt, FinishedAt: ended.FinishedAt}, ended)

	// With no worker to answer the progress query, an ended run still shows
	// its progress and totals: they are its result.
	env.StopWorker()
	resp = env.Do("GET", "/api/billing/runs/2026-03-01", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var unanswered billingRun
	resp.Decode(t, &unanswered)
	assert.Equal(t, run, unanswered)
	env.StartWorker()
}

func TestABillingRunIsItsTenantsAndItsIDADate(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(day("2026-03-10"))
	runBilling(t, env, "2026-03-01")

	for _, c := range []struct {
		key, id string
		status  int
	}{
		{env.B.OperatorKey, "2026-03-01", http.StatusNotFound},
		{env.A.OperatorKey, "2026-03-02", http.StatusNotFound},
		{env.A.ApproverKey, "2026-03-01", http.StatusForbidden},
		{env.A.OperatorKey, "2026-13-01", http.StatusBadRequest},
		{env.A.OperatorKey, "yesterday", http.StatusBadRequest},
		{env.A.OperatorKey, strings.Repeat("9", 65), http.StatusBadRequest},
		{env.A.OperatorKey, "2026-03-01%00", http.StatusBadRequest},
		{env.A.OperatorKey, "0001-01-01", http.StatusBadRequest},
		{env.A.OperatorKey, "9999-12-31", http.StatusBadRequest},
		{env.A.OperatorKey, "2026-03-01T00:00:00Z", http.StatusBadRequest},
	} {
		resp := env.Do("GET", "/api/billing/runs/"+c.id, c.key, nil)
		assert.Equal(t, c.status, resp.Status, "%s: %s", c.id, resp.Body)
	}
}
