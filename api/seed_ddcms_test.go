package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Seed fidelity and conformance for ddcms-cancel-restart-schedule.txt: the
// client prefix is a fresh testkit tenant's, the contract ids its contracts'.

func TestSeedDDCMSFidelity(t *testing.T) {
	env := newAmendmentEnv(t)
	prefix, key := env.A.Prefix, env.A.SubmitterKey

	t.Run("a contract id that is not a GUID is the seed's 404", func(t *testing.T) {
		// Seed: "POST {ddcmsurl}/api/v3/client/{clientPrefix}/contract/{contractId:Guid}/cancelSchedule";
		// "404 Not Found | Contract with the specified ID does not exist."
		for _, id := range []string{"12345", "CT-0000000001", "not-a-guid", strings.Repeat("g", 32)} {
			requirePlain(t, scheduleCall(env, schedulePath(prefix, id, "cancelSchedule"), key), http.StatusNotFound, scheduleNotFound)
			// A route constraint decides before any key is looked at.
			requirePlain(t, scheduleCall(env, schedulePath(prefix, id, "restartSchedule"), ""), http.StatusNotFound, scheduleNotFound)
		}
		// The accepted spellings, in either case.
		id := env.CreateContract(nil)["id"].(string)
		spellings := []string{"(" + id + ")", strings.ToUpper(id), "{" + id + "}", strings.ReplaceAll(id, "-", "")}
		for i, spelt := range spellings {
			action, want := "cancelSchedule", scheduleCancelled
			if i%2 == 1 {
				action, want = "restartSchedule", scheduleRestarted
			}
			requirePlain(t, scheduleCall(env, schedulePath(prefix, spelt, action), key), http.StatusOK, want)
		}
	})

	t.Run("a key without the role is told apart from a protected contract", func(t *testing.T) {
		// Seed: "403 Forbidden | This contract cannot be used in API. When contract is protected."
		protected := env.CreateContract(map[string]any{"protected": true})["id"].(string)
		ordinary := env.CreateContract(nil)["id"].(string)
		byProtection := scheduleCall(env, schedulePath(prefix, protected, "cancelSchedule"), key)
		requirePlain(t, byProtection, http.StatusForbidden, "This contract cannot be used in API.")
		assert.Equal(t, "protected", byProtection.Header.Get("X-Forbidden-Reason"))

		byRole := scheduleCall(env, schedulePath(prefix, ordinary, "cancelSchedule"), env.A.OperatorKey)
		require.Equal(t, http.StatusForbidden, byRole.Status)
		assert.Equal(t, "role", byRole.Header.Get("X-Forbidden-Reason"))
		assert.NotEqual(t, string(byProtection.Body), string(byRole.Body))
	})

	t.Run("the comment is bounded as the README says", func(t *testing.T) {
		// Seed: "nullable comment as a query parameter"; the README bounds it to 1000 characters.
		id := env.CreateContract(nil)["id"].(string)
		requirePlain(t, scheduleCall(env, schedulePath(prefix, id, "cancelSchedule"), key), http.StatusOK, scheduleCancelled)
		restart := schedulePath(prefix, id, "restartSchedule") + "?comment="
		requirePlain(t, scheduleCall(env, restart+strings.Repeat("é", 1001), key), http.StatusBadRequest, "query parameter comment must not be longer than 1000 characters (it has 1001)")
		requirePlain(t, scheduleCall(env, restart+strings.Repeat("é", 1000), key), http.StatusOK, scheduleRestarted)
	})

	t.Run("cancelSchedule on a cancelled contract is the seed's 400", func(t *testing.T) {
		// Seed: "400 Bad Request | {specific error message}".
		ct := fiveSeats(env, nil)
		require.Equal(t, http.StatusOK, change(env, key, cancel(ct["id"])).Status)
		const message = "The contract is canceled; only an active contract's schedule can be cancelled or restarted."
		requirePlain(t, scheduleCall(env, schedulePath(prefix, ct["id"].(string), "cancelSchedule"), key), http.StatusBadRequest, message)
		requirePlain(t, scheduleCall(env, schedulePath(prefix, ct["id"].(string), "restartSchedule"), key), http.StatusBadRequest, message)
		assert.Equal(t, "Active", scheduleOf(t, env, ct["id"].(string))["status"], "nothing changed")
	})
}

// TestSeedDDCMSSamples walks the seed's two endpoints and its response table.
func TestSeedDDCMSSamples(t *testing.T) {
	env := newAmendmentEnv(t)
	id := env.CreateContract(nil)["id"].(string)
	cancelPath := schedulePath(env.A.Prefix, id, "cancelSchedule")
	restartPath := schedulePath(env.A.Prefix, id, "restartSchedule")

	// "On success, the endpoint returns a 200 OK response with Contract schedule was cancelled successfully."
	requirePlain(t, scheduleCall(env, cancelPath, env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	assert.Equal(t, "Terminated", scheduleOf(t, env, id)["status"])
	// "... the Contract schedule was restarted successfully." (comment is nullable)
	requirePlain(t, scheduleCall(env, restartPath+"?comment=paid", env.A.SubmitterKey), http.StatusOK, scheduleRestarted)
	assert.Equal(t, "Active", scheduleOf(t, env, id)["status"])
	requirePlain(t, scheduleCall(env, cancelPath, env.A.SubmitterKey), http.StatusOK, scheduleCancelled)
	requirePlain(t, scheduleCall(env, restartPath, env.A.SubmitterKey), http.StatusOK, scheduleRestarted)

	// "400 Bad Request | {specific error message}": restarting an Active schedule.
	requirePlain(t, scheduleCall(env, restartPath, env.A.SubmitterKey), http.StatusBadRequest,
		"The contract schedule is already Active; only a Terminated schedule can be restarted.")
	// "404 Not Found | Contract with the specified ID does not exist."
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, "0b0e7d8a-54a4-4d7e-9a8e-9d8f7e6a5b4c", "cancelSchedule"), env.A.SubmitterKey),
		http.StatusNotFound, scheduleNotFound)
	// "403 Forbidden | This contract cannot be used in API."
	protected := env.CreateContract(map[string]any{"protected": true})["id"].(string)
	requirePlain(t, scheduleCall(env, schedulePath(env.A.Prefix, protected, "cancelSchedule"), env.A.SubmitterKey),
		http.StatusForbidden, "This contract cannot be used in API.")
}
