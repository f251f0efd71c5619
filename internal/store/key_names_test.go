package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// Migration 0016 names the keys issued before display names as a nameless
// key is named now, and from then on the database refuses a key without a
// readable name.
func TestKeyDisplayNameMigrationNamesExistingKeys(t *testing.T) {
	ctx := context.Background()
	st, sd := storeBefore(t, 16)
	db := st.DB()
	staff, customer := uuid.NewString(), uuid.NewString()
	sd.exec(`INSERT INTO api_keys (id, tenant_id, key_hash, actor_id, roles) VALUES ($1, $2, 'h1', $3, '{submitter,approver}')`,
		uuid.NewString(), sd.tenantID, staff)
	sd.exec(`INSERT INTO api_keys (id, tenant_id, key_hash, actor_id, roles, source, account_number)
		VALUES ($1, $2, 'h2', $3, '{submitter}', 'CUSTOMER', 'ACC-7')`, uuid.NewString(), sd.tenantID, customer)

	_, err := st.Migrate(ctx)
	require.NoError(t, err)

	names, err := st.ActorNames(ctx, sd.tenantID, []string{staff, customer, "system"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		staff:    auth.DefaultDisplayName([]auth.Role{auth.RoleSubmitter, auth.RoleApprover}, auth.SourceUser, ""),
		customer: auth.DefaultDisplayName([]auth.Role{auth.RoleSubmitter}, auth.SourceCustomer, "ACC-7"),
	}, names)
	assert.Equal(t, "submitter, approver key", names[staff])
	assert.Equal(t, "Customer ACC-7", names[customer])

	for _, bad := range []string{"NULL", "''", "'   '", "repeat('x', 101)"} {
		_, err := db.Exec(`UPDATE api_keys SET display_name = `+bad+` WHERE actor_id = $1`, staff)
		assert.Error(t, err, bad)
	}
}

func TestKeysAreStoredWithBoundedDisplayNames(t *testing.T) {
	ctx := context.Background()
	st := testdb.Migrated(t)
	tn, err := st.CreateTenant(ctx, store.Tenant{Prefix: "NAMES", Name: "Names"}, nil)
	require.NoError(t, err)
	newKey := func(name string, roles ...auth.Role) (string, string, error) {
		key, err := auth.NewKey(tn.Prefix)
		require.NoError(t, err)
		actor := uuid.NewString()
		id, err := st.AddKey(ctx, tn.ID, store.NewKey{Key: key, ActorID: actor, Roles: roles, DisplayName: name})
		return actor, id, err
	}

	longest := strings.Repeat("é", auth.MaxDisplayNameLen)
	named, namedID, err := newKey(longest, auth.RoleApprover)
	require.NoError(t, err, "100 characters, 200 bytes")
	unnamed, _, err := newKey("", auth.RoleOperator)
	require.NoError(t, err)
	for _, bad := range []string{longest + "e", "Ada\x00Lovelace", "  ", "\xff"} {
		_, _, err := newKey(bad, auth.RoleSubmitter)
		assert.ErrorContains(t, err, "display name", "%q", bad)
	}

	// History outlives keys: a revoked key still names its actor.
	require.NoError(t, st.RevokeKey(ctx, tn.ID, namedID, time.Now()))
	names, err := st.ActorNames(ctx, tn.ID, []string{named, unnamed, named, "system", uuid.NewString()})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{named: longest, unnamed: "operator key"}, names)

	other, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OTHER", Name: "Other"}, nil)
	require.NoError(t, err)
	names, err = st.ActorNames(ctx, other.ID, []string{named})
	require.NoError(t, err)
	assert.Empty(t, names, "another tenant's actors are not named")
}
