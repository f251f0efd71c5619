package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// The payment schedule is the business's: a customer key is refused both
// DDCMS routes. A probe's customer key cancelled its own contract's schedule
// (200): the contract stayed active, and a Terminated schedule collects
// nothing, so its periods went unbilled until it restarted the schedule
// itself, and an early-termination fee priced meanwhile went uncollected.

const customerScheduleRefusal = "a customer key cannot cancel or restart a contract's payment schedule, which is the business's; " +
	"to stop paying, cancel the contract"

// requireRefusedToCustomer checks a DDCMS answer is the customer key's 403:
// plain text, told apart from a protected contract and a missing role.
func requireRefusedToCustomer(t *testing.T, resp testkit.Response) {
	t.Helper()
	requirePlain(t, resp, http.StatusForbidden, customerScheduleRefusal)
	assert.Equal(t, "customer", resp.Header.Get("X-Forbidden-Reason"))
}

// scheduleState is what a schedule change could change: the contracts'
// schedules as staff read them, and the rows a change or its re-pricing
// writes.
func scheduleState(t *testing.T, env *testkit.Env, ids ...string) map[string]any {
	t.Helper()
	state := map[string]any{}
	for _, id := range ids {
		state[id] = scheduleOf(t, env, id)
	}
	for _, table := range []string{"schedule_events", "outbox_events", "amendments", "amendment_events"} {
		state[table] = env.CountRows(table)
	}
	return state
}

// A customer key's cancelSchedule and restartSchedule are 403 on its own
// contract (its schedule Active, or Terminated by the business), on another
// account's and on one that does not exist alike, before anything is looked
// up: nothing changes, and nothing tells the contracts apart. Staff keys
// cancel and restart as before.
func TestACustomerKeyNeitherCancelsNorRestartsAPaymentSchedule(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-CUST-S"
	key := env.NewCustomerKey(env.A, account)
	own := customerContract(t, env, key, account)["id"].(string)
	// An open amendment, which a schedule change would price again.
	held := seats(own, 7)
	held["requireApproval"] = true
	require.Equal(t, http.StatusAccepted, change(env, key, held).Status)
	stopped := customerContract(t, env, key, account)["id"].(string)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, stopped, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	theirs := fiveSeats(env, nil)["id"].(string)

	before := scheduleState(t, env, own, stopped, theirs)
	for _, id := range []string{own, stopped, theirs, uuid.NewString()} {
		for _, path := range []string{
			schedulePath(env.A.Prefix, id, "cancelSchedule"),
			schedulePath(env.A.Prefix, id, "restartSchedule"),
			schedulePath(env.A.Prefix, id, "restartSchedule") + "?comment=paid",
			schedulePath("NO-SUCH-CLIENT", id, "cancelSchedule"),
		} {
			requireRefusedToCustomer(t, scheduleCall(env, path, key))
			requireRefusedToCustomer(t, env.Do("POST", path, key, nil, "Idempotency-Key", "k-"+id))
		}
	}
	assert.Equal(t, before, scheduleState(t, env, own, stopped, theirs), "nothing changed")
	assert.Equal(t, "Active", scheduleOf(t, env, own)["status"])
	assert.Equal(t, "Terminated", scheduleOf(t, env, stopped)["status"])

	// Staff keys change the customer's schedules as ever.
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, own, "cancelSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, stopped, "restartSchedule"), env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	assert.Equal(t, "Terminated", scheduleOf(t, env, own)["status"])
	assert.Equal(t, "Active", scheduleOf(t, env, stopped)["status"])
	history := scheduleOf(t, env, own)["history"].([]any)
	assert.Equal(t, "USER", history[len(history)-1].(map[string]any)["source"])
}
