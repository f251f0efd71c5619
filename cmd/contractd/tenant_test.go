package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

func TestKeyCreateFlags(t *testing.T) {
	prefix, nk, err := parseKeyCreate([]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC-42"})
	require.NoError(t, err)
	assert.Equal(t, "ACME", prefix)
	assert.Equal(t, auth.SourceCustomer, nk.Source)
	assert.Equal(t, "ACC-42", nk.AccountNumber)
	assert.Equal(t, []auth.Role{auth.RoleSubmitter}, nk.Roles)

	_, nk, err = parseKeyCreate([]string{"--prefix", "ACME", "--role", "approver", "--hmac"})
	require.NoError(t, err)
	assert.Equal(t, auth.SourceHMAC, nk.Source)
	assert.Empty(t, nk.AccountNumber)

	_, nk, err = parseKeyCreate([]string{"--prefix", "ACME", "--role", "operator"})
	require.NoError(t, err)
	assert.Equal(t, auth.SourceUser, nk.Source)
	assert.Empty(t, nk.DisplayName, "the store names it after its roles")

	_, nk, err = parseKeyCreate([]string{"--prefix", "ACME", "--role", "approver", "--display-name", "Ada Lovelace"})
	require.NoError(t, err)
	assert.Equal(t, "Ada Lovelace", nk.DisplayName)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prefix", "ACME", "--role", "approver", "--customer", "ACC-42"}, "a customer key may only hold the submitter role"},
		{[]string{"--prefix", "ACME", "--role", "operator", "--customer", "ACC-42"}, "a customer key may only hold the submitter role"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--role", "approver", "--customer", "ACC-42"}, "a customer key may only hold the submitter role"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC-42", "--hmac"}, "--customer and --hmac cannot be combined"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", " "}, "--customer needs the account number"},
		// A key for an account number the API would never take could never act.
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", strings.Repeat("A", 65)}, "--customer must be an account number"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC\n42"}, "--customer must be an account number"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC\x0042"}, "--customer must be an account number"},
		{[]string{"--prefix", "ACME", "--customer", "ACC-42"}, "at least one --role"},
		{[]string{"--prefix", "ACME", "--role", "approver", "--display-name", strings.Repeat("x", 101)}, "--display-name: the display name has 101 characters"},
		{[]string{"--prefix", "ACME", "--role", "approver", "--display-name", "Ada\x00"}, "--display-name: the display name must not contain NUL"},
		{[]string{"--prefix", "ACME", "--role", "approver", "--display-name", ""}, "--display-name: the display name must not be empty"},
	} {
		_, _, err := parseKeyCreate(tc.args)
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		}
	}
}

func TestTenantCreateNamesItsKeys(t *testing.T) {
	tenant, keys, err := parseTenantCreate([]string{"--prefix", "ACME", "--name", "Acme Ltd", "--approver-name", "Ada Lovelace"})
	require.NoError(t, err)
	assert.Equal(t, "Acme Ltd", tenant.Name)
	names := map[auth.Role]string{}
	for _, k := range keys {
		require.Len(t, k.Roles, 1)
		assert.NotEmpty(t, k.Key)
		assert.NotEmpty(t, k.ActorID)
		names[k.Roles[0]] = k.DisplayName
	}
	assert.Equal(t, map[auth.Role]string{
		auth.RoleSubmitter: "submitter key", auth.RoleApprover: "Ada Lovelace", auth.RoleOperator: "operator key",
	}, names)

	for flag, value := range map[string]string{"--operator-name": strings.Repeat("é", 101), "--submitter-name": "a\x00b", "--approver-name": " "} {
		_, _, err := parseTenantCreate([]string{"--prefix", "ACME", "--name", "Acme Ltd", flag, value})
		assert.ErrorContains(t, err, flag+": the display name", "%q", value)
	}
	for _, name := range []string{strings.Repeat("x", 100_000), "Acme\x00"} {
		_, _, err := parseTenantCreate([]string{"--prefix", "ACME", "--name", name})
		assert.ErrorContains(t, err, "--name: the display name", "a tenant's name is bounded as a display name")
	}
}

func TestTenantCreateSandboxIsOnlyWhenAsked(t *testing.T) {
	tenant, _, err := parseTenantCreate([]string{"--prefix", "ACME", "--name", "Acme Ltd"})
	require.NoError(t, err)
	assert.False(t, tenant.Sandbox, "a tenant is a production tenant unless --sandbox is given")
	tenant, _, err = parseTenantCreate([]string{"--prefix", "TRY", "--name", "Acme trials", "--sandbox"})
	require.NoError(t, err)
	assert.True(t, tenant.Sandbox)
}

// A customer key for an account that exists is issued whatever its number,
// as the API takes an account stored before domain.CheckIdentifier held; a
// new account's number is held to the check, since the key's first
// contract would create the account and the API would refuse it then. The
// CLI refused the existing account's number too.
func TestKeyCreateTakesAnExistingAccountAsItIs(t *testing.T) {
	ctx := context.Background()
	url := testdb.Empty(t)
	s, err := store.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	tenant, err := s.CreateTenant(ctx, store.Tenant{Prefix: "ACME", Name: "Acme Ltd"}, nil)
	require.NoError(t, err)
	// As an older release stored it: a zero width non-joiner between digits.
	legacy := "ACC-LEGACY-\u200c1"
	s.DB().MustExec(`INSERT INTO accounts (id, tenant_id, number, created_at) VALUES ($1, $2, $3, now())`, uuid.NewString(), tenant.ID, legacy)
	cfg := config.Config{DatabaseURL: url}
	keysFor := func(account string) int {
		var n int
		require.NoError(t, s.DB().Get(&n, `SELECT count(*) FROM api_keys WHERE account_number = $1`, account))
		return n
	}

	require.NoError(t, createKey(ctx, cfg, []string{"--prefix", "ACME", "--role", "submitter", "--customer", legacy}))
	assert.Equal(t, 1, keysFor(legacy), "the existing account's key is issued")
	require.NoError(t, createKey(ctx, cfg, []string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC-NEW-1"}))
	assert.Equal(t, 1, keysFor("ACC-NEW-1"), "a new account with a visible number is fine")

	for _, account := range []string{"ACC-NEW-\u200c2", "ACC-42\u200b", "ACC\u202e-42", " ACC-42"} {
		err := createKey(ctx, cfg, []string{"--prefix", "ACME", "--role", "submitter", "--customer", account})
		if assert.Error(t, err, "%q", account) {
			assert.Contains(t, err.Error(), "a new account's", "%q", account)
		}
		assert.Zero(t, keysFor(account), "%q", account)
	}
}

// revokeEnv is a migrated database with tenant ACME, whose keys hold roles
// (one key each), and the config the tenant commands open it with.
func revokeEnv(t *testing.T, roles ...[]auth.Role) (*store.Store, config.Config, []string) {
	t.Helper()
	s, url := testdb.MigratedURL(t)
	var keys []string
	var nks []store.NewKey
	for _, r := range roles {
		k, err := auth.NewKey("ACME")
		require.NoError(t, err)
		keys = append(keys, k)
		nks = append(nks, store.NewKey{Key: k, ActorID: uuid.NewString(), Roles: r})
	}
	_, err := s.CreateTenant(context.Background(), store.Tenant{Prefix: "ACME", Name: "Acme Ltd"}, nks)
	require.NoError(t, err)
	return s, config.Config{DatabaseURL: url}, keys
}

// active reports whether key still authenticates.
func active(t *testing.T, s *store.Store, key string) bool {
	t.Helper()
	_, err := s.Principal(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// Revoking the tenant's last active key with the operator role locked it
// out of its catalog, approval rules, webhooks and billing until an
// administrator issued another: it is refused, naming the way out, unless
// --allow-last-operator is given. A key with other roles too counts as an
// operator key; other keys are revoked as before.
func TestKeyRevokeKeepsTheLastOperatorKey(t *testing.T) {
	ctx := context.Background()
	s, cfg, keys := revokeEnv(t, []auth.Role{auth.RoleOperator}, []auth.Role{auth.RoleSubmitter, auth.RoleOperator}, []auth.Role{auth.RoleSubmitter})
	operator, both, submitter := keys[0], keys[1], keys[2]
	revoke := func(key string, flags ...string) error {
		return revokeKey(ctx, cfg, append([]string{"--prefix", "ACME", "--key", key}, flags...))
	}

	require.NoError(t, revoke(submitter))
	require.NoError(t, revoke(operator), "another operator key is left")
	err := revoke(both)
	require.ErrorContains(t, err, "not revoked: the key is tenant ACME's last active key with the operator role")
	assert.ErrorContains(t, err, "contractd tenant key create --prefix ACME --role operator")
	assert.ErrorContains(t, err, "--allow-last-operator")
	assert.True(t, active(t, s, both), "the refused revocation revoked nothing")

	require.NoError(t, revoke(both, "--allow-last-operator"))
	assert.False(t, active(t, s, both))
}

// Two revocations of a tenant's last two operator keys, at once, cannot
// both pass: each would have counted the other's key as left. The first
// holds the tenant's row until it commits, and the second, waiting for it,
// then counts no other and is refused.
func TestKeyRevokesOfTheLastTwoOperatorKeysCannotBothPass(t *testing.T) {
	ctx := context.Background()
	s, cfg, keys := revokeEnv(t, []auth.Role{auth.RoleOperator}, []auth.Role{auth.RoleOperator})
	var tenantID string
	require.NoError(t, s.DB().Get(&tenantID, `SELECT id FROM tenants WHERE prefix = 'ACME'`))

	// The first, as the store makes it, left uncommitted.
	first, err := s.DB().BeginTxx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Rollback() })
	first.MustExec(`SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID)
	first.MustExec(`UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1`, auth.HashKey(keys[0]))

	second := make(chan error, 1)
	go func() { second <- revokeKey(ctx, cfg, []string{"--prefix", "ACME", "--key", keys[1]}) }()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, s.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))
		return waiting > 0
	}, 10*time.Second, 20*time.Millisecond, "the second revocation waits for the first")
	require.NoError(t, first.Commit())

	assert.ErrorContains(t, <-second, "last active key with the operator role")
	assert.False(t, active(t, s, keys[0]))
	assert.True(t, active(t, s, keys[1]), "the tenant keeps an operator key")
}
