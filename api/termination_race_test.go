package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
