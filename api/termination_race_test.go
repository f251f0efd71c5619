package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// The handler checks a contract's termination before it starts the workflow
// that writes the contract; a termination deleted in between must not leave
// the contract pointing at nothing. The test holds the tenant's numbering
// row so the workflow's activity waits after the check and before its
// insert, deletes the termination over HTTP meanwhile, then lets the
// activity go on: the foreign key of migration 0014 refuses the contract.
func TestConcurrentTerminationDeleteLeavesNoDanglingContract(t *testing.T) {
	env := newAmendmentEnv(t)
	id := createTermination(t, env, "Deleted meanwhile")
	db := env.Store.DB()

	hold := db.MustBegin()
	t.Cleanup(func() { _ = hold.Rollback() })
	hold.MustExec(`INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'CA', 0)
		ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value`, env.A.ID)

	answered := make(chan testkit.Response, 1)
	go func() {
		answered <- env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-RACE", teamItem(map[string]any{"contractTerminationId": id})))
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%tenant_counters%'`)
		return err == nil && waiting > 0
	}, 30*time.Second, 20*time.Millisecond, "the contract action's activity never waited on the held counter")

	requireWrite(t, env.Do("DELETE", terminationPath(id, ""), env.A.OperatorKey, nil), "delete")
	require.NoError(t, hold.Rollback())

	resp := <-answered
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["message"], fmt.Sprintf("contractTerminationId %d", id))
	var dangling int
	require.NoError(t, db.Get(&dangling, `SELECT count(*) FROM contracts c WHERE contract_termination_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM contract_terminations t WHERE t.tenant_id = c.tenant_id AND t.id = c.contract_termination_id)`))
	assert.Zero(t, dangling)
	assert.Zero(t, env.CountRows("contracts"))
}

// A termination PATCH locks each termination it edits; a contract action
// creating contracts on two terminations holds each (its foreign key's
// share lock) from its insert to its commit. Taking them in the other
// order, the two would wait for each other, and Postgres would end the
// PATCH with a 500. The PATCH's lock leaves the key alone, so it does not
// wait for the contract action at all.
func TestATerminationPatchDoesNotWaitForContractsNamingIt(t *testing.T) {
	env := testkit.New(t)
	first, second := createTermination(t, env, "First"), createTermination(t, env, "Second")
	db := env.Store.DB()

	// A contract action that has inserted its contract on the second termination.
	creation := db.MustBegin()
	t.Cleanup(func() { _ = creation.Rollback() })
	creation.MustExec(`SELECT 1 FROM contract_terminations WHERE id = $1 FOR KEY SHARE`, second)

	patched := make(chan testkit.Response, 1)
	go func() {
		patched <- patchTermination(env, first, []map[string]any{
			{"patchType": "update", "patchClientId": 1, "name": "First, renamed"},
			{"patchType": "update", "patchClientId": 2, "identity": second, "name": "Second, renamed"},
		})
	}()
	var resp testkit.Response
	require.Eventually(t, func() bool {
		select {
		case resp = <-patched:
			return true
		default:
		}
		var waiting bool
		err := db.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%contract_terminations%')`)
		return err == nil && waiting
	}, 30*time.Second, 20*time.Millisecond, "the PATCH neither answered nor waited")
	// The contract action's next contract names the first termination.
	_, err := creation.Exec(`SELECT 1 FROM contract_terminations WHERE id = $1 FOR KEY SHARE`, first)
	require.NoError(t, err, "the contract action goes on")
	require.NoError(t, creation.Commit())
	if resp.Status == 0 {
		resp = <-patched
	}
	requireWrite(t, resp, "patch")
	assert.Equal(t, "Second, renamed", detail(t, env, second)["name"])
}

// A PATCH deleting two terminations and a contract action creating
// contracts on both take them in one order, ascending ids, whatever the
// order of the patch's items or the action's contracts: in their own
// orders, each could hold the termination the other waits for, and
// Postgres would end one of them. A third transaction holds one
// termination, as a contract action that has inserted its first contract
// does, so that the PATCH waits in the middle; the contract action starts
// then, and the holder commits once the action has finished or waits too.
func TestATerminationPatchAndAContractActionTakeTerminationsInOneOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		// path is the PATCH's termination (the first or second created),
		// deleted first, then the other one; held and the action's plans
		// name them likewise.
		path, held int
		plans      []int
		wantPatch  int // the PATCH's status: 409 once the action's contracts use them
		wantAction bool
	}{
		// On the items' order the PATCH took the second, then waited for the first.
		{name: "patch items in descending order", path: 1, held: 0, plans: []int{0, 1}, wantPatch: http.StatusConflict, wantAction: true},
		// On the plans' order the action took the second, then waited for the first.
		{name: "action plans in descending order", path: 0, held: 1, plans: []int{1, 0}, wantPatch: http.StatusOK, wantAction: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testkit.New(t)
			ids := []int64{createTermination(t, env, "First"), createTermination(t, env, "Second")}
			other := ids[1-tc.path]
			db := env.Store.DB()

			hold := db.MustBegin()
			t.Cleanup(func() { _ = hold.Rollback() })
			hold.MustExec(`SELECT 1 FROM contract_terminations WHERE id = $1 FOR KEY SHARE`, ids[tc.held])

			patched := make(chan testkit.Response, 1)
			go func() {
				patched <- patchTermination(env, ids[tc.path], []map[string]any{
					{"patchType": "delete", "patchClientId": 1},
					{"patchType": "delete", "patchClientId": 2, "identity": other},
				})
			}()
			waitForLockWaits(t, env, 1)

			created := make(chan error, 1)
			go func() { created <- createContractsOn(env, ids[tc.plans[0]], ids[tc.plans[1]]) }()
			var actionErr error
			require.Eventually(t, func() bool {
				select {
				case actionErr = <-created:
					created <- actionErr
					return true
				default:
					return lockWaits(env) >= 2
				}
			}, 30*time.Second, 20*time.Millisecond, "the contract action neither finished nor waited")
			require.NoError(t, hold.Commit())

			resp, actionErr := <-patched, <-created
			assert.Equal(t, tc.wantPatch, resp.Status, "PATCH: %s", resp.Body)
			if tc.wantAction {
				assert.NoError(t, actionErr, "the contract action")
				assert.Equal(t, 2, env.CountRows("contracts"))
			} else {
				var invalid *domain.Error
				require.ErrorAs(t, actionErr, &invalid, "the contract action")
				assert.Equal(t, "contractTerminationId", invalid.Field)
				assert.Zero(t, env.CountRows("contracts"))
			}
		})
	}
}

// createContractsOn creates, as a contract action's activity does, one Team
// contract on each termination, in the order given.
func createContractsOn(env *testkit.Env, terminations ...int64) error {
	ctx := context.Background()
	start, err := domain.ParseDate("2026-02-01")
	if err != nil {
		return err
	}
	cat, err := env.Store.Catalog(ctx, env.A.ID)
	if err != nil {
		return err
	}
	in := store.NewContractAction{ID: uuid.NewString(), TenantID: env.A.ID, ActorID: env.A.SubmitterActor, Source: "USER",
		AccountNumber: "ACC-ORDER", ActionType: "create-contract-with-plan"}
	for i, id := range terminations {
		p, err := domain.PlanContract(&cat, domain.NewContract{PlanID: "off_team", ContractTerminationID: &id,
			EffectiveDate: start, ExpirationDate: start.AddDays(365), Currency: []string{"USD"}},
			fmt.Sprintf("items[%d]", i))
		if err != nil {
			return err
		}
		in.Plans = append(in.Plans, p)
	}
	_, err = env.Store.CreateContracts(ctx, in, time.Now())
	return err
}

// lockWaits counts the test database's sessions waiting for a lock.
func lockWaits(env *testkit.Env) int {
	var n int
	if err := env.Store.DB().Get(&n, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
		return -1
	}
	return n
}

func waitForLockWaits(t *testing.T, env *testkit.Env, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return lockWaits(env) >= n }, 30*time.Second, 20*time.Millisecond)
}
