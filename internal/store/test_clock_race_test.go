package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// An amendment opened on a contract whose test clock is advancing holds the
// clock for its workflow: the advance's next step, taken meanwhile, waits
// for the opening to commit and then, where the clock stands, for the
// workflow, rather than stepping past the date the opening was checked
// against. A probe saw a change opened at the clock's 12 March for the 13th
// applied on 1 April: the step had read the clock's waits before the
// opening's hold was there, and jumped to the next billing run.
func TestAnAdvanceWaitsForAnAmendmentOpenedDuringIt(t *testing.T) {
	ctx := context.Background()
	st, contractID, sc, clock, start := contractOnAClock(t, "race")
	_, err := st.StartAdvance(ctx, sc.TenantID, clock.ID, start.Add(90*24*time.Hour))
	require.NoError(t, err)

	amendmentID := uuid.NewString()
	workflowID := "amendment-" + amendmentID
	effective := domain.DateOf(start).AddDays(1)
	change := seatChange(t, contractID, 7, effective)
	planning, proceed, opened := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := st.OpenAmendment(ctx, store.NewAmendment{
			ID: amendmentID, TenantID: sc.TenantID, ContractID: contractID, Action: change.Action, Request: []byte(`{}`),
			WorkflowID: workflowID, ActorID: tester, Source: "API", Change: change,
		}, start, func(b store.PlanBasis) (store.Plan, error) {
			close(planning)
			<-proceed
			q, err := domain.PlanOnTimeline(domain.Preflight{Catalog: &b.Catalog, Contract: b.Contract, Change: change, Today: domain.DateOf(start)}, b.Timeline)
			return store.Plan{Quote: q, Status: domain.StatusScheduled}, err
		})
		opened <- err
	}()
	<-planning
	stepped := make(chan store.ClockStep, 1)
	go func() {
		step, err := st.NextClockStep(ctx, sc.TenantID, clock.ID, 0, store.ClockStep{})
		assert.NoError(t, err)
		stepped <- step
	}()
	waitForALockWait(t, st)
	close(proceed)
	require.NoError(t, <-opened)

	step := <-stepped
	assert.Equal(t, store.ClockStep{At: start, Wake: true}, normalised(step), "the step waits for the new workflow where the clock stands")
	now, err := st.TestClock(ctx, sc.TenantID, clock.ID)
	require.NoError(t, err)
	assert.True(t, now.FrozenTime.Equal(start), "the clock did not move: %s", now.FrozenTime)

	// Once the workflow waits for its date, the advance steps to it.
	due := effective.Time()
	_, err = st.RegisterClockWait(ctx, clock.ID, workflowID, due)
	require.NoError(t, err)
	step, err = st.NextClockStep(ctx, sc.TenantID, clock.ID, 0, step)
	require.NoError(t, err)
	assert.True(t, step.At.Equal(due) && step.Wake, "stepped to the amendment's date: %+v", step)
}

// waitForALockWait returns once a connection of st's database waits for a
// lock: the step blocked on the opening's share of the clock.
func waitForALockWait(t *testing.T, st *store.Store) {
	t.Helper()
	for range 1000 {
		var waiting int
		require.NoError(t, st.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the clock's step did not wait for the opening's transaction")
}

// normalised is step with its time in UTC, to compare.
func normalised(step store.ClockStep) store.ClockStep {
	step.At = step.At.UTC()
	return step
}

// contractOnAClock is oneContract moved onto a new test clock, named name,
// which stands at start: noon UTC today, so that no sweep or billing run
// (each at its time after midnight) falls between start and the next
// midnight, whatever the time the test runs at. Started at the wall clock,
// a run between midnight and the billing run's time stepped to the run
// before the day a test expected.
func contractOnAClock(t *testing.T, name string) (st *store.Store, contractID string, sc store.Scope, clock store.TestClock, start time.Time) {
	t.Helper()
	st, contractID, sc = oneContract(t)
	start = time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	clock, err := st.CreateTestClock(context.Background(), sc.TenantID, tester, name, start, start)
	require.NoError(t, err)
	_, err = st.DB().Exec(`UPDATE contracts SET test_clock_id = $1 WHERE id = $2`, clock.ID, contractID)
	require.NoError(t, err)
	return st, contractID, sc, clock, start
}
