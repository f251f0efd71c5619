package main

import (
	"context"
	"strings"
	"testing"

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
