package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// Seed fidelity and conformance for contract-termination-v5.txt: each
// subtest quotes the statement of the seed it checks. The ids are those a
// fresh testkit tenant has: penalty service 1 ("Early termination") is the
// demo catalog's only one.

// flatInstanceKeys are the keys of the seed's ContractTermination instance.
var flatInstanceKeys = []string{"identity", "penaltyServiceId", "penaltyServiceName", "name"}

func requireKeys(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v is not an object", v)
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	require.ElementsMatch(t, keys, got, "%v", m)
	return m
}

func v5Items(t *testing.T, resp testkit.Response, kind string) []any {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requireTracked(t, resp)
	body := resp.JSON(t)
	require.Equal(t, kind, body["type"])
	results := body["results"].(map[string]any)
	items := results["items"].([]any)
	require.EqualValues(t, len(items), results["totalCount"])
	return items
}

func TestSeedV5Fidelity(t *testing.T) {
	env := testkit.New(t)
	key := env.A.OperatorKey

	t.Run("POST and PUT answer flat instances", func(t *testing.T) {
		// Seed, POST sample response: "results": {"totalCount": 1, "items": [{"identity": 1,
		// "penaltyServiceId": 26, "penaltyServiceName": "Sample Text Data", "name": "Early Termination Fee"}]}
		created := v5Items(t, env.Do("POST", terminationsPath+"/", key, map[string]any{"penaltyServiceId": 1, "name": "Early Termination Fee"}), "create")
		require.Len(t, created, 1)
		inst := requireKeys(t, created[0], flatInstanceKeys...)
		assert.Equal(t, "Early termination", inst["penaltyServiceName"])
		id := int64(inst["identity"].(float64))

		// Seed, PUT sample response: the same flat shape under "type": "update".
		updated := v5Items(t, env.Do("PUT", terminationPath(id, ""), key, map[string]any{"identity": id, "penaltyServiceId": 1, "name": "Renamed"}), "update")
		require.Len(t, updated, 1)
		assert.Equal(t, "Renamed", requireKeys(t, updated[0], flatInstanceKeys...)["name"])
	})

	t.Run("read-only fields sent back are ignored", func(t *testing.T) {
		// Seed: "identity READ-ONLY"; the PUT sample sends {"identity": 1, "penaltyServiceId": 20, ...}.
		id := createTermination(t, env, "Round trip")
		got := env.Do("GET", terminationPath(id, ""), key, nil)
		require.Equal(t, http.StatusOK, got.Status)
		instance := got.JSON(t)["instance"].(map[string]any)
		instance["name"] = "Round trip, renamed"
		put := v5Items(t, env.Do("PUT", terminationPath(id, ""), key, instance), "update")
		assert.Equal(t, "Round trip, renamed", put[0].(map[string]any)["name"])

		// A Detail instance PUT back as read is accepted too.
		full := detail(t, env, id)
		v5Items(t, env.Do("PUT", terminationPath(id, ""), key, full), "update")

		// On POST the read-only fields are ignored: the identity is the service's.
		posted := v5Items(t, env.Do("POST", terminationsPath, key,
			map[string]any{"identity": id, "penaltyServiceId": 1, "penaltyServiceName": "Whatever", "name": "Copy"}), "create")
		copyOf := posted[0].(map[string]any)
		assert.NotEqualValues(t, id, copyOf["identity"])
		assert.Equal(t, "Early termination", copyOf["penaltyServiceName"])

		// The one refusal: an identity naming another termination than the path.
		instance["identity"] = copyOf["identity"]
		mismatch := requireV5Error(t, env.Do("PUT", terminationPath(id, ""), key, instance), http.StatusBadRequest)
		assert.Contains(t, mismatch.Message, "does not match")
	})

	t.Run("PATCH update and delete address rows by identity", func(t *testing.T) {
		// Seed: "contractTerminationPeriodCharge - create, update, delete"; the sample's
		// create item carries "patchClientId": 1, its correlation id.
		id := createTermination(t, env, "Patched")
		created := v5Items(t, patchTermination(env, id, nil, chargeItem(7, 0, 12, 10000, "USD")), "patch")
		require.Len(t, created, 1)
		charge := created[0].(map[string]any)
		assert.EqualValues(t, 7, charge["patchClientId"], "patchClientId is echoed")
		chargeID := charge["identity"]

		changed := v5Items(t, patchTermination(env, id,
			[]map[string]any{{"patchType": "update", "identity": id, "name": "Patched, renamed"}},
			map[string]any{"patchType": "update", "identity": chargeID, "amount": 9000},
		), "patch")
		require.Len(t, changed, 2)
		assert.Equal(t, "Patched, renamed", changed[0].(map[string]any)["instance"].(map[string]any)["name"])
		assert.NotContains(t, changed[1], "patchClientId", "none was sent, none is echoed")
		assert.EqualValues(t, 9000, changed[1].(map[string]any)["instance"].(map[string]any)["amount"])

		deleted := v5Items(t, patchTermination(env, id, nil, map[string]any{"patchType": "delete", "identity": chargeID}), "patch")
		assert.Equal(t, "deleted", deleted[0].(map[string]any)["action"])

		// A create still needs its correlation id: without one the answer
		// could not say which identity the item got.
		noClientID := requireV5Error(t, patchTermination(env, id, nil,
			map[string]any{"patchType": "create", "startMonth": 0, "endMonth": 1, "amount": 1, "currency": "USD"}), http.StatusBadRequest)
		assert.Contains(t, noClientID.errorText(), "patchClientId is required to create")
	})

	t.Run("a catalog change keeps the penalty services terminations use", func(t *testing.T) {
		// Seed: "penaltyServiceName ... The name of the object associated with the penaltyServiceId property."
		id := createTermination(t, env, "Uses service 1")
		cat := demo.Catalog()
		cat.PenaltyServices = nil
		refused := env.Do("PUT", "/api/catalog", key, cat)
		require.Equal(t, http.StatusConflict, refused.Status, "%s", refused.Body)
		assert.Contains(t, refused.JSON(t)["message"], "penalty service 1 is named by ")
		got := env.Do("GET", terminationPath(id, ""), key, nil).JSON(t)["instance"].(map[string]any)
		assert.Equal(t, "Early termination", got["penaltyServiceName"])

		// Renaming the service is a change, not a drop: the new name shows.
		cat = demo.Catalog()
		cat.PenaltyServices[0].Name = "Early exit"
		require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", key, cat).Status)
		got = env.Do("GET", terminationPath(id, ""), key, nil).JSON(t)["instance"].(map[string]any)
		assert.Equal(t, "Early exit", got["penaltyServiceName"])
	})
}

// TestSeedV5Samples walks the seed's samples in its order. Where a sample
// names an id a fresh tenant does not have (penalty services 18, 20 and 23),
// it runs with penalty service 1, as the README's "Where we differ" says.
func TestSeedV5Samples(t *testing.T) {
	env := testkit.New(t)
	key := env.A.OperatorKey

	// POST Contract/Termination/ {"penaltyServiceId": 18, "name": "Early Termination Fee"}
	created := v5Items(t, env.Do("POST", terminationsPath+"/", key, map[string]any{"penaltyServiceId": 1, "name": "Early Termination Fee"}), "create")
	id := int64(requireKeys(t, created[0], flatInstanceKeys...)["identity"].(float64))

	// PUT Contract/Termination/{id} {"identity": 1, "penaltyServiceId": 20, "name": "Early Termination Fee"}
	updated := v5Items(t, env.Do("PUT", terminationPath(id, ""), key, map[string]any{"identity": id, "penaltyServiceId": 1, "name": "Early Termination Fee"}), "update")
	requireKeys(t, updated[0], flatInstanceKeys...)

	// PATCH Contract/Termination/{id}: as published it names penalty service
	// 23, which a fresh tenant does not have ...
	patch := `{"details": {}, "contractTerminations": {"items": [
		{"patchType": "create", "patchClientId": 1, "penaltyServiceId": 23, "name": "Early Termination Fee"}]}}`
	asPublished := requireV5Error(t, env.Do("PATCH", terminationPath(id, ""), key, patch), http.StatusBadRequest)
	assert.Contains(t, asPublished.errorText(), "penaltyServiceId 23")
	// ... so it runs with penalty service 1.
	patch = strings.Replace(patch, `"penaltyServiceId": 23`, `"penaltyServiceId": 1`, 1)
	patched := v5Items(t, env.Do("PATCH", terminationPath(id, ""), key, patch), "patch")
	require.Len(t, patched, 1)
	result := patched[0].(map[string]any)
	assert.Equal(t, "created", result["action"])
	assert.Equal(t, "contractTermination", result["dtoTypeKey"])
	requireKeys(t, result["instance"], flatInstanceKeys...)

	// GET Contract/Termination/: {"trackingId", "totalCount": 1, "items": [...]}
	list := env.Do("GET", terminationsPath+"/", key, nil)
	require.Equal(t, http.StatusOK, list.Status)
	listed := requireKeys(t, list.JSON(t), "trackingId", "totalCount", "items")
	assert.EqualValues(t, 2, listed["totalCount"])
	requireKeys(t, listed["items"].([]any)[0], flatInstanceKeys...)

	// GET Contract/Termination/Paged and Paged/Detail: {"trackingId", "pagination", "pagedResults"}
	for _, path := range []string{"/Paged", "/Paged/Detail"} {
		paged := env.Do("GET", terminationsPath+path, key, nil)
		require.Equal(t, http.StatusOK, paged.Status, path)
		body := requireKeys(t, paged.JSON(t), "trackingId", "pagination", "pagedResults")
		assert.Equal(t, map[string]any{"pageNumber": float64(1), "pageSize": float64(20), "excludeTotalCount": false}, body["pagination"])
		results := requireKeys(t, body["pagedResults"], "totalCount", "items")
		first := results["items"].([]any)[0]
		if path == "/Paged" {
			requireKeys(t, first, flatInstanceKeys...)
		} else {
			requireKeys(t, first, append(flatInstanceKeys, "details")...)
		}
	}

	// GET Contract/Termination/{id} and {id}/Detail: {"trackingId", "instance"}
	one := env.Do("GET", terminationPath(id, ""), key, nil)
	require.Equal(t, http.StatusOK, one.Status)
	requireKeys(t, requireKeys(t, one.JSON(t), "trackingId", "instance")["instance"], flatInstanceKeys...)
	requireKeys(t, detail(t, env, id), append(flatInstanceKeys, "details")...)

	// DELETE Contract/Termination/{id}: "type": "delete", items {"identity", "action": "deleted", "dtoTypeKey"}
	deleted := v5Items(t, env.Do("DELETE", terminationPath(id, ""), key, nil), "delete")
	first := requireKeys(t, deleted[0], "identity", "action", "dtoTypeKey")
	assert.Equal(t, "deleted", first["action"])
	assert.Equal(t, "contractTermination", first["dtoTypeKey"])
}
