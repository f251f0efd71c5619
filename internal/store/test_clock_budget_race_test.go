package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/bulk"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// Changes of contracts on an advancing clock under the tenant's clock-work
// lock (test_clock_budget.go): in the order of the other locks, and
// counted one after the other.

// contractsOnAnAdvancingClock seeds n contracts of the demo tenant on a new
// test clock standing at noon today, and starts its advance by 90 days (its
// workflow not started: the clock stays advancing).
func contractsOnAnAdvancingClock(t *testing.T, n int) (st *store.Store, ids []string, tenantID, clockID string, start time.Time) {
	t.Helper()
	ctx := context.Background()
	st = testdb.Migrated(t)
	require.NoError(t, demo.Seed(ctx, st, time.Now()))
	ids, err := bulk.Contracts(ctx, st.DB(), "DEMO", n, bulk.Options{})
	require.NoError(t, err)
	require.NoError(t, st.DB().Get(&tenantID, `SELECT tenant_id FROM contracts WHERE id = $1`, ids[0]))
	start = time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	clock, err := st.CreateTestClock(ctx, tenantID, tester, "budget", start, start)
	require.NoError(t, err)
	for _, id := range ids {
		_, err = st.DB().Exec(`UPDATE contracts SET test_clock_id = $1 WHERE id = $2`, clock.ID, id)
		require.NoError(t, err)
	}
	_, err = st.StartAdvance(ctx, tenantID, clock.ID, start.Add(90*24*time.Hour))
	require.NoError(t, err)
	return st, ids, tenantID, clock.ID, start
}

// holdClockWork takes the tenant's clock-work advisory lock (the keys of
// test_clock_budget.go) in a transaction of its own until release.
func holdClockWork(t *testing.T, st *store.Store, tenantID string) (release func()) {
	t.Helper()
	tx, err := st.DB().BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.Exec(fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext($1::uuid::text))`, 0x636c6f63), tenantID)
	require.NoError(t, err)
	release = func() { _ = tx.Rollback() }
	t.Cleanup(release)
	return release
}

// waitForLockWaits returns once n connections of st's database wait for a lock.
func waitForLockWaits(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for range 1000 {
		var waiting int
		require.NoError(t, st.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
		if waiting >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d transactions waited for a lock", n)
}

// openOnClock opens change on the contract at the clock's time start: at
// once (applied) when it is due today, else SCHEDULED.
func openOnClock(st *store.Store, tenantID, contractID string, change domain.Change, start time.Time) error {
	_, err := openOnClockAs(st, tenantID, contractID, change, start)
	return err
}

// openOnClockAs is openOnClock, returning the amendment's id.
func openOnClockAs(st *store.Store, tenantID, contractID string, change domain.Change, start time.Time) (string, error) {
	id := uuid.NewString()
	today := domain.DateOf(start)
	_, err := st.OpenAmendment(context.Background(), store.NewAmendment{
		ID: id, TenantID: tenantID, ContractID: contractID, Action: change.Action, Request: []byte(`{}`),
		WorkflowID: "amendment-" + id, ActorID: tester, Source: "API", Change: change,
	}, start, func(b store.PlanBasis) (store.Plan, error) {
		q, err := domain.PlanOnTimeline(domain.Preflight{Catalog: &b.Catalog, Contract: b.Contract, Change: change, Today: today}, b.Timeline)
		p := store.Plan{Quote: q, Status: domain.StatusScheduled}
		if err == nil && q.Immediate(today) {
			p.Status, p.ApplyNow = domain.StatusPending, true
		}
		return p, err
	})
	return id, err
}

// renewalTermsChange is a change of the contract's renewal terms, today.
func renewalTermsChange(t *testing.T, id string) domain.Change {
	t.Helper()
	var change domain.Change
	require.NoError(t, json.Unmarshal(fmt.Appendf(nil, `{"action": "RENEWAL_TERMS_CHANGE", "contractId": %q,
		"renewal": {"mode": "AUTO_RENEW", "termMonths": 24, "noticeDays": 30}, "payload": null}`, id), &change))
	return change
}

// A change applied as it is opened writes its contract and appends its
// event in one statement, taking the tenant's event counter, and only then
// (refuseChangeOverAdvance) waits for the tenant's clock-work lock; a
// scheduled change of another contract on the advancing clock takes the
// clock-work lock first and appends its events after it. Holding one each,
// each waits for the other: Postgres fails one of them (40P01).
func TestAChangeAppliedAtOnceAndAnotherOnAnAdvancingClockDoNotDeadlock(t *testing.T) {
	st, ids, tenantID, _, start := contractsOnAnAdvancingClock(t, 2)
	release := holdClockWork(t, st, tenantID)

	scheduled := make(chan error, 1)
	go func() {
		scheduled <- openOnClock(st, tenantID, ids[1], seatChange(t, ids[1], 7, domain.DateOf(start).AddDays(1)), start)
	}()
	waitForLockWaits(t, st, 1)
	immediate := make(chan error, 1)
	go func() { immediate <- openOnClock(st, tenantID, ids[0], renewalTermsChange(t, ids[0]), start) }()
	waitForLockWaits(t, st, 2)
	release()

	assert.NoError(t, <-scheduled, "the scheduled change")
	assert.NoError(t, <-immediate, "the change applied at once")
}

// refuseOverAdvance reads the clock's contracts before it takes the
// tenant's clock-work lock: two changes of an advancing clock's contracts
// at once (each holding the clock shared) each count the clock's work
// without the other's, and both take the last item of the tenant's budget.
// Here another clock's advance leaves room for one more item, and two
// scheduled changes (an item each) are opened at once: one should be
// refused.
func TestTwoChangesOfAnAdvancingClockDoNotBothTakeTheLastOfTheWork(t *testing.T) {
	ctx := context.Background()
	st, ids, tenantID, clockID, start := contractsOnAnAdvancingClock(t, 2)
	var held int
	require.NoError(t, st.DB().Get(&held, `SELECT work FROM clock_advance_work WHERE clock_id = $1`, clockID))
	other, err := st.CreateTestClock(ctx, tenantID, tester, "other", start, start)
	require.NoError(t, err)
	_, err = st.DB().Exec(`UPDATE test_clocks SET status = 'advancing', target_time = frozen_time + interval '1 day' WHERE id = $1`, other.ID)
	require.NoError(t, err)
	_, err = st.DB().Exec(`INSERT INTO clock_advance_work (clock_id, tenant_id, work) VALUES ($1, $2, $3)`,
		other.ID, tenantID, domain.MaxClockAdvanceWork-held-1)
	require.NoError(t, err)

	release := holdClockWork(t, st, tenantID)
	errs := make(chan error, len(ids))
	for _, id := range ids {
		change := seatChange(t, id, 7, domain.DateOf(start).AddDays(1))
		go func() { errs <- openOnClock(st, tenantID, id, change, start) }()
	}
	waitForLockWaits(t, st, len(ids))
	release()
	refused := 0
	for range ids {
		if err := <-errs; err != nil {
			assert.Equal(t, domain.KindUnprocessable, domain.KindOf(err), "%v", err)
			refused++
		}
	}
	assert.Equal(t, 1, refused, "room for one item, and each change is one")
	var sum int
	require.NoError(t, st.DB().Get(&sum, `SELECT sum(work) FROM clock_advance_work WHERE tenant_id = $1`, tenantID))
	t.Logf("held %d of %d by the tenant's advances; clock %s held %d before the changes", sum, domain.MaxClockAdvanceWork, clockID, held)
}
