package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
)

// The workflow of an advance that is over, started again (a repeated
// advance request, or a read of the clock, that found it advancing just
// before it ended), steps nothing: the clock's next advance is under way,
// and carrying out its steps beside that advance's own workflow would wake,
// sweep and bill twice at once. The clock's own advance still steps.
func TestAStaleAdvanceStepsNothing(t *testing.T) {
	ctx := context.Background()
	st, _, sc, clock, start := contractOnAClock(t, "stale")
	for _, days := range []int{1, 2} { // advances 1 and 2; the first is over
		_, err := st.StartAdvance(ctx, sc.TenantID, clock.ID, start.Add(time.Duration(days)*24*time.Hour))
		require.NoError(t, err)
		if days == 2 {
			break
		}
		for step := (store.ClockStep{}); !step.Done; {
			step, err = st.NextClockStep(ctx, sc.TenantID, clock.ID, 1, step)
			require.NoError(t, err)
		}
	}
	before, err := st.TestClock(ctx, sc.TenantID, clock.ID)
	require.NoError(t, err)
	require.Equal(t, 2, before.Advances)
	require.Equal(t, store.ClockAdvancing, before.Status)

	stale, err := st.NextClockStep(ctx, sc.TenantID, clock.ID, 1, store.ClockStep{})
	require.NoError(t, err)
	assert.True(t, stale.Done, "advance 1 is over: %+v", stale)
	after, err := st.TestClock(ctx, sc.TenantID, clock.ID)
	require.NoError(t, err)
	assert.True(t, after.FrozenTime.Equal(before.FrozenTime), "the clock did not move: %s", after.FrozenTime)
	assert.Equal(t, store.ClockAdvancing, after.Status, "advance 2 is still under way")

	own, err := st.NextClockStep(ctx, sc.TenantID, clock.ID, 2, store.ClockStep{})
	require.NoError(t, err)
	assert.True(t, own.At.After(before.FrozenTime), "advance 2 steps: %+v", own)
}
