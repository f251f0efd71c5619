package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
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
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC-42\u200b"}, "--customer must be an account number"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", "ACC\u202e-42"}, "--customer must be an account number"},
		{[]string{"--prefix", "ACME", "--role", "submitter", "--customer", " ACC-42"}, "--customer must be an account number"},
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
