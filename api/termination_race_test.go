package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

// The handler checks a contract's termination before it starts the workflow
// that writes the contract; a termination deleted in between must not leave
// the contract pointing at nothing. No worker runs while the request's
// workflow is started, so its activity runs after the check and the
// deletion: it finds the termination gone (its lock skips it, the foreign
// key of migration 0014 refuses the contract).
func TestConcurrentTerminationDeleteLeavesNoDanglingContract(t *testing.T) {
	env := newAmendmentEnv(t)
	id := createTermination(t, env, "Deleted meanwhile")
	db := env.Store.DB()
	env.StopWorker()

	answered := make(chan testkit.Response, 1)
	go func() {
		answered <- env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-RACE", teamItem(map[string]any{"contractTerminationId": id})))
	}()
	require.Eventually(t, func() bool {
		list, err := env.Temporal.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("TaskQueue = '%s' AND WorkflowType = 'ContractActionWorkflow'", env.TaskQueue),
		})
		return err == nil && len(list.GetExecutions()) > 0
	}, 30*time.Second, 20*time.Millisecond, "the contract action's workflow never started")

	requireWrite(t, env.Do("DELETE", terminationPath(id, ""), env.A.OperatorKey, nil), "delete")
	env.StartWorker()

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
	creation := holdTermination(t, env, second)
	patched := patchInBackground(env, first, []map[string]any{
		{"patchType": "update", "patchClientId": 1, "name": "First, renamed"},
		{"patchType": "update", "patchClientId": 2, "identity": second, "name": "Second, renamed"},
	})
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

			hold := holdTermination(t, env, ids[tc.held])
			patched := patchInBackground(env, ids[tc.path], deleteItAnd(other))
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

// A contract action takes the termination it names before the tenant's
// counters, as one naming several does. Holding its number while it waited
// for a termination a PATCH holds, it would close a cycle with another
// action holding the termination that PATCH waits for and waiting for the
// number. Here the PATCH waits (a third transaction holds its second
// termination) while it holds the first, which the action names.
func TestAContractActionWaitingForItsTerminationHoldsNoCounter(t *testing.T) {
	env := testkit.New(t)
	first, second := createTermination(t, env, "First"), createTermination(t, env, "Second")
	db := env.Store.DB()
	// The action numbers' counter exists, committed, so that a lock on it shows.
	db.MustExec(`INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'CA', 0) ON CONFLICT (tenant_id, name) DO NOTHING`, env.A.ID)

	hold := holdTermination(t, env, second)
	patched := patchInBackground(env, first, deleteItAnd(second))
	waitForLockWaits(t, env, 1)
	created := make(chan error, 1)
	go func() { created <- createContractsOn(env, first) }()
	waitForLockWaits(t, env, 2)

	probe := db.MustBegin()
	_, err := probe.Exec(`SELECT 1 FROM tenant_counters WHERE tenant_id = $1 AND name = 'CA' FOR UPDATE NOWAIT`, env.A.ID)
	assert.NoError(t, err, "the action waits for its termination holding no counter")
	require.NoError(t, probe.Rollback())
	require.NoError(t, hold.Commit())

	resp := <-patched
	assert.Equal(t, http.StatusOK, resp.Status, "PATCH: %s", resp.Body)
	var invalid *domain.Error
	require.ErrorAs(t, <-created, &invalid, "the contract action")
	assert.Equal(t, "contractTerminationId", invalid.Field)
}

// holdTermination holds termination id as a contract action that has
// inserted a contract naming it does: its foreign key's share lock.
func holdTermination(t *testing.T, env *testkit.Env, id int64) *sqlx.Tx {
	hold := env.Store.DB().MustBegin()
	t.Cleanup(func() { _ = hold.Rollback() })
	hold.MustExec(`SELECT 1 FROM contract_terminations WHERE id = $1 FOR KEY SHARE`, id)
	return hold
}

// patchInBackground sends a PATCH of termination id; its answer comes on the channel.
func patchInBackground(env *testkit.Env, id int64, items []map[string]any) <-chan testkit.Response {
	answered := make(chan testkit.Response, 1)
	go func() { answered <- patchTermination(env, id, items) }()
	return answered
}

// deleteItAnd is a PATCH's items deleting its path's termination, then other.
func deleteItAnd(other int64) []map[string]any {
	return []map[string]any{
		{"patchType": "delete", "patchClientId": 1},
		{"patchType": "delete", "patchClientId": 2, "identity": other},
	}
}

// createContractsOn creates, as a contract action's activity does, one Team
// contract on each termination, in the order given.
func createContractsOn(env *testkit.Env, terminations ...int64) error {
	start, err := domain.ParseDate("2026-02-01")
	if err != nil {
		return err
	}
	requested := make([]domain.RequestedContract, len(terminations))
	for i, id := range terminations {
		requested[i] = domain.RequestedContract{Field: fmt.Sprintf("items[%d]", i), NewContract: domain.NewContract{PlanID: "off_team",
			ContractTerminationID: &id, EffectiveDate: start, ExpirationDate: start.AddDays(365), Currency: []string{"USD"}}}
	}
	in := store.NewContractAction{ID: uuid.NewString(), TenantID: env.A.ID, ActorID: env.A.SubmitterActor, Source: "USER",
		AccountNumber: "ACC-ORDER", ActionType: "create-contract-with-plan",
		Plan: func(cat *domain.Catalog) ([]domain.ContractPlan, error) { return domain.PlanContracts(cat, requested) }}
	_, err = env.Store.CreateContracts(context.Background(), in, time.Now())
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
