package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// TestStoredTimesFollowTheBusinessClock shows that what a handler stores is
// stamped by the injected business clock, not by the database's now() or
// the wall clock: a test that moves the clock finds its writes at that time.
func TestStoredTimesFollowTheBusinessClock(t *testing.T) {
	env := testkit.New(t)
	at := time.Date(2031, time.May, 17, 9, 30, 0, 0, time.UTC)
	env.Clock.Set(at)

	// A catalog that changes something: an unchanged one is not stored again.
	cat := demo.Catalog()
	cat.Offerings[0].Name += " (2031)"
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp = env.Do("PUT", "/api/approval-rules", env.A.OperatorKey, map[string]any{"rules": []any{cancellationsNeedApproval}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var catalogAt, rulesAt time.Time
	require.NoError(t, env.Store.DB().Get(&catalogAt, `SELECT updated_at FROM catalogs WHERE tenant_id = $1`, env.A.ID))
	require.NoError(t, env.Store.DB().Get(&rulesAt, `SELECT updated_at FROM approval_rules WHERE tenant_id = $1`, env.A.ID))
	// The clock runs on from where it was set while the test does.
	assert.WithinDuration(t, at, catalogAt, time.Minute, "catalog updated_at")
	assert.WithinDuration(t, at, rulesAt, time.Minute, "approval rules updated_at")

	w := subscribe(t, env, newReceiver(t), "contract.created")
	created, err := time.Parse(time.RFC3339Nano, w["createdOn"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, at, created, time.Minute, "webhook createdOn")
}
