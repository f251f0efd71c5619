package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A catalog edit that drops an offering and a change that puts the offering
// on a contract must not both succeed: the contract would hold an offering
// the catalog no longer has, which every later edit of the catalog, even
// one changing nothing, would refuse. Each test stops one of the two in
// the middle, with a transaction of its own holding a lock the one stopped
// takes next, sends the other, waits until it has answered or waits too,
// and then lets the first go on: whichever came first decides, and the
// other is refused.

// A change priced on the catalog with the offering holds the edit off until
// it commits: the edit then finds the contract on the offering, and is
// refused.
func TestACatalogEditDroppingAnOfferingWaitsForAChangeAddingIt(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	withExtra := putExtraOffering(t, env)

	// The change, priced and written, waits to announce itself.
	held := holdCounter(t, env, "event")
	added := inBackground(func() testkit.Response { return change(env, env.A.SubmitterKey, addExtra(id)) })
	waitForLockWait(t, env, "tenant_counters")
	requireContractLocked(t, env, id)

	dropped := dropExtraWhileHeld(t, env, withExtra, held)

	add, put := <-added, <-dropped
	require.Equal(t, http.StatusOK, add.Status)
	require.Equal(t, http.StatusConflict, put.Status, "the edit came second")
	assert.Contains(t, put.JSON(t)["message"], ct["number"])
	assert.True(t, catalogOffers(t, env, extraOffering), "the catalog keeps the offering the contract holds")
}

// A contract action creating a contract on the offering holds the edit off
// likewise.
func TestACatalogEditDroppingAnOfferingWaitsForAContractCreatedOnIt(t *testing.T) {
	env := newAmendmentEnv(t)
	fiveSeats(env, nil) // the action counter exists, committed, so that a lock on it holds the action
	withExtra := putExtraOffering(t, env)

	// The action, its catalog read, waits for its number.
	held := holdCounter(t, env, "CA")
	created := inBackground(func() testkit.Response {
		return env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-EXTRA", teamItem(map[string]any{"planId": extraOffering})))
	})
	waitForLockWait(t, env, "tenant_counters")

	dropped := dropExtraWhileHeld(t, env, withExtra, held)

	create, put := <-created, <-dropped
	require.Equal(t, http.StatusOK, create.Status, "%s", create.Body)
	require.Equal(t, http.StatusConflict, put.Status, "the edit came second")
	assert.Contains(t, put.JSON(t)["message"], extraOffering)
	assert.True(t, catalogOffers(t, env, extraOffering), "the catalog keeps the offering the contract holds")
}

// An amendment adding the offering, accepted before the edit, holds the
// edit off likewise when it applies on its date: the edit's re-pricing of
// the contract's open amendments, which would fail it, comes after the
// check of what is in use, and would wait for the apply and find it
// applied. The business clock is set a few seconds before the date.
func TestACatalogEditDroppingAnOfferingWaitsForAnAmendmentApplyingIt(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	withExtra := putExtraOffering(t, env)
	env.Clock.Set(time.Date(2026, 3, 15, 23, 59, 57, 0, time.UTC))
	amendmentID := scheduled(t, env, addExtra(id), "2026-03-16")["id"].(string)

	// The apply, written, waits to announce itself.
	held := holdCounter(t, env, "event")
	waitForLockWait(t, env, "tenant_counters")
	requireContractLocked(t, env, id)

	dropped := dropExtraWhileHeld(t, env, withExtra, held)

	put := <-dropped
	require.Equal(t, http.StatusConflict, put.Status, "the edit came second")
	assert.Contains(t, put.JSON(t)["message"], ct["number"])
	require.Eventually(t, func() bool { return amendment(t, env, amendmentID)["status"] == "APPLIED" }, 30*time.Second, 100*time.Millisecond)
	assert.True(t, catalogOffers(t, env, extraOffering), "the catalog keeps the offering the contract holds")
}

// A change sent while an edit dropping the offering is under way waits for
// it and is priced on the edited catalog. The contract has an open
// amendment, which the edit re-prices under the contract's lock: a change
// that held that lock while it waited for the edit would deadlock with it.
func TestAChangeSentDuringACatalogEditIsPricedOnTheEditedCatalog(t *testing.T) {
	env := newAmendmentEnv(t)
	id := fiveSeats(env, nil)["id"].(string)
	require.Equal(t, http.StatusOK, change(env, env.A.SubmitterKey, annualRateNextCycle(id)).Status)
	withExtra := putExtraOffering(t, env)

	// The edit, its turn taken, waits for the catalog's row.
	held := holdCatalogRow(t, env)
	dropped := inBackground(func() testkit.Response {
		return env.Do("PUT", "/api/catalog", env.A.OperatorKey, withoutExtra(withExtra))
	})
	waitForLockWait(t, env, "FROM catalogs")

	added := inBackground(func() testkit.Response { return change(env, env.A.SubmitterKey, addExtra(id)) })
	awaitAnswerOrLockWaits(t, env, added, 2)
	require.NoError(t, held.Rollback())

	put, add := <-dropped, <-added
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	require.Equal(t, http.StatusUnprocessableEntity, add.Status, "the change came second: %s", add.Body)
	assert.Contains(t, add.JSON(t)["errorMessage"], `"off_extra" is not an offering in the catalog`)
	assert.False(t, catalogOffers(t, env, extraOffering))
}

// extraOffering is the offering the tests add to the catalog and then race
// to drop and to use.
const extraOffering = "off_extra"

// putExtraOffering adds extraOffering (one product at 700 a month, its
// sales item) to the tenant's catalog, and returns the catalog with it.
func putExtraOffering(t *testing.T, env *testkit.Env) map[string]any {
	t.Helper()
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	cat["products"] = append(cat["products"].([]any), map[string]any{"id": "prod_extra", "name": "Extra"})
	cat["offerings"] = append(cat["offerings"].([]any), map[string]any{"id": extraOffering, "name": "Extra",
		"products": []any{map[string]any{"productId": "prod_extra", "minQuantity": 1, "maxQuantity": 10}},
		"rates": []any{map[string]any{"id": "rate_extra_m", "currency": "USD", "billingPeriod": "MONTHLY",
			"unitPrices": map[string]any{"prod_extra": 700}}}})
	cat["salesItems"] = append(cat["salesItems"].([]any), map[string]any{"code": "EXTRA-M", "offeringId": extraOffering,
		"rateId": "rate_extra_m", "requiresViewingCard": false})
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return cat
}

// withoutExtra is cat without extraOffering and its sales item.
func withoutExtra(cat map[string]any) map[string]any {
	out := make(map[string]any, len(cat))
	for k, v := range cat {
		out[k] = v
	}
	out["offerings"] = slices.DeleteFunc(slices.Clone(cat["offerings"].([]any)), func(o any) bool {
		return o.(map[string]any)["id"] == extraOffering
	})
	out["salesItems"] = slices.DeleteFunc(slices.Clone(cat["salesItems"].([]any)), func(s any) bool {
		return s.(map[string]any)["offeringId"] == extraOffering
	})
	return out
}

// addExtra adds extraOffering to a contract at once.
func addExtra(contractID string) map[string]any {
	return map[string]any{"action": "ADD_OFFERING", "contractId": contractID,
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": extraOffering, "products": []any{}}}}}
}

// catalogOffers reports whether the tenant's catalog has the offering.
func catalogOffers(t *testing.T, env *testkit.Env, offeringID string) bool {
	t.Helper()
	cat := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).JSON(t)
	return slices.ContainsFunc(cat["offerings"].([]any), func(o any) bool { return o.(map[string]any)["id"] == offeringID })
}

// dropExtraWhileHeld sends the catalog edit dropping the extra offering while
// held stops the write it races, waits until the edit has answered or
// waits too, and then lets the write go on. The edit's answer comes on the
// channel.
func dropExtraWhileHeld(t *testing.T, env *testkit.Env, withExtra map[string]any, held *sql.Tx) chan testkit.Response {
	t.Helper()
	dropped := inBackground(func() testkit.Response {
		return env.Do("PUT", "/api/catalog", env.A.OperatorKey, withoutExtra(withExtra))
	})
	awaitAnswerOrLockWaits(t, env, dropped, 2)
	require.NoError(t, held.Rollback())
	return dropped
}

// inBackground runs request in a goroutine; its answer comes on the channel.
func inBackground(request func() testkit.Response) chan testkit.Response {
	answered := make(chan testkit.Response, 1)
	go func() { answered <- request() }()
	return answered
}

// awaitAnswerOrLockWaits waits until the request answering on answered has
// answered (the answer is put back) or n transactions wait for a lock.
func awaitAnswerOrLockWaits(t *testing.T, env *testkit.Env, answered chan testkit.Response, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		select {
		case resp := <-answered:
			answered <- resp
			return true
		default:
			return lockWaits(env) >= n
		}
	}, 30*time.Second, 20*time.Millisecond, "the request neither answered nor waited")
}

// holdCounter locks the tenant's counter name (which exists) in a
// transaction of its own, which the test ends.
func holdCounter(t *testing.T, env *testkit.Env, name string) *sql.Tx {
	t.Helper()
	return holding(t, env, `SELECT 1 FROM tenant_counters WHERE tenant_id = $1 AND name = $2 FOR UPDATE`, env.A.ID, name)
}

// holdCatalogRow share-locks the tenant's catalog row in a transaction of
// its own, as a termination write does, which the test ends.
func holdCatalogRow(t *testing.T, env *testkit.Env) *sql.Tx {
	t.Helper()
	return holding(t, env, `SELECT 1 FROM catalogs WHERE tenant_id = $1 FOR KEY SHARE`, env.A.ID)
}

// holding runs a statement locking one row in a transaction of its own.
func holding(t *testing.T, env *testkit.Env, query string, args ...any) *sql.Tx {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	held, err := env.Store.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Rollback() })
	res, err := held.ExecContext(ctx, query, args...)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the row to hold exists")
	return held
}

// requireContractLocked checks that a transaction holds the contract's lock:
// a change waiting with it has read its catalog.
func requireContractLocked(t *testing.T, env *testkit.Env, contractID string) {
	t.Helper()
	probe, err := env.Store.DB().Beginx()
	require.NoError(t, err)
	defer func() { _ = probe.Rollback() }()
	_, err = probe.Exec(`SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE NOWAIT`, contractID)
	require.Error(t, err, "the change holds its contract")
}
