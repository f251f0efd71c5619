package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

// A deleted clock takes no wait: it never moves again, so a workflow that
// came to wait on it after its deletion had stopped the clock's workflows
// (one started as the clock was deleted) would wait for good. The wait is
// refused as a conflict, and the workflow's hold is forgotten with it.
func TestADeletedClockTakesNoWait(t *testing.T) {
	ctx := context.Background()
	st, _, sc, clock, start := contractOnAClock(t, "deleted")
	_, err := st.RegisterClockWait(ctx, clock.ID, "waiting", start.Add(time.Hour))
	require.NoError(t, err, "a live clock takes a wait")

	_, err = st.DeleteTestClock(ctx, sc.TenantID, clock.ID, tester, start)
	require.NoError(t, err)
	require.NoError(t, st.HoldClock(ctx, clock.ID, "late"))
	now, err := st.RegisterClockWait(ctx, clock.ID, "late", start.Add(365*24*time.Hour))
	require.Error(t, err)
	assert.Equal(t, domain.KindConflict, domain.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "test clock "+clock.ID+" is deleted")
	assert.True(t, now.Equal(start), "the clock's time, as it stands: %s", now)

	var late int
	require.NoError(t, st.DB().GetContext(ctx, &late, `SELECT count(*) FROM test_clock_waits WHERE workflow_id = 'late'`))
	assert.Zero(t, late, "the late workflow's hold forgotten")
	ids, err := st.ClockWorkflows(ctx, clock.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"waiting"}, ids, "the wait made before the deletion is left for the deletion to stop")
}
