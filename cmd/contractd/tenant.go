package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/store"
)

var prefixPattern = regexp.MustCompile(`^[A-Z0-9]{2,16}$`)

// maxAccountNumber is the longest account number the API takes, in
// characters (api's maxID for identifiers).
const maxAccountNumber = 64

const tenantUsage = `usage:
  contractd tenant create --prefix P --name N [--sandbox] [--submitter-name S] [--approver-name A] [--operator-name O]
  contractd tenant key create --prefix P --role R [--role R2 ...] [--hmac] [--display-name D]
  contractd tenant key create --prefix P --role submitter --customer ACCOUNT [--display-name D]
  contractd tenant key revoke --prefix P --key K [--allow-last-operator]   (K: the key itself or its keyId)`

func runTenant(ctx context.Context, cfg config.Config, args []string) error {
	switch {
	case len(args) >= 1 && args[0] == "create":
		return createTenant(ctx, cfg, args[1:])
	case len(args) >= 2 && args[0] == "key" && args[1] == "create":
		return createKey(ctx, cfg, args[2:])
	case len(args) >= 2 && args[0] == "key" && args[1] == "revoke":
		return revokeKey(ctx, cfg, args[2:])
	}
	return errors.New(tenantUsage)
}

func createTenant(ctx context.Context, cfg config.Config, args []string) error {
	tenant, keys, err := parseTenantCreate(args)
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := s.CreateTenant(ctx, tenant, keys)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	plain := map[string]string{}
	for _, k := range keys {
		plain[string(k.Roles[0])] = k.Key
	}
	return printValue(map[string]any{"tenantId": t.ID, "prefix": t.Prefix, "sandbox": t.Sandbox, "keys": plain})
}

// parseTenantCreate reads `tenant create`'s flags into the tenant and its
// keys: one per role, each with its own actor, so four-eyes rules can tell
// them apart, and its own display name.
func parseTenantCreate(args []string) (store.Tenant, []store.NewKey, error) {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	prefix := fs.String("prefix", "", "tenant prefix: 2-16 upper-case letters or digits (used in DDCMS URLs)")
	name := fs.String("name", "", "tenant display name")
	sandbox := fs.Bool("sandbox", false, "a sandbox tenant, which may create test clocks; never for production (set now, never later)")
	keyNames := map[auth.Role]*string{}
	for _, role := range auth.AllRoles {
		keyNames[role] = fs.String(string(role)+"-name", auth.DefaultDisplayName([]auth.Role{role}, auth.SourceUser, ""),
			"display name of the "+string(role)+" key's actor, shown beside its uuid (1-100 characters)")
	}
	if err := fs.Parse(args); err != nil {
		return store.Tenant{}, nil, err
	}
	if !prefixPattern.MatchString(*prefix) || *name == "" {
		return store.Tenant{}, nil, errors.New("--prefix (2-16 upper-case letters or digits) and --name are required")
	}
	if err := auth.CheckDisplayName(*name); err != nil {
		return store.Tenant{}, nil, fmt.Errorf("--name: %w", err)
	}
	var keys []store.NewKey
	for _, role := range auth.AllRoles {
		if err := auth.CheckDisplayName(*keyNames[role]); err != nil {
			return store.Tenant{}, nil, fmt.Errorf("--%s-name: %w", role, err)
		}
		k, err := auth.NewKey(*prefix)
		if err != nil {
			return store.Tenant{}, nil, err
		}
		keys = append(keys, store.NewKey{Key: k, ActorID: uuid.NewString(), Roles: []auth.Role{role}, DisplayName: *keyNames[role]})
	}
	return store.Tenant{Prefix: *prefix, Name: *name, Sandbox: *sandbox}, keys, nil
}

// roleFlags collects a repeated --role flag.
type roleFlags []auth.Role

func (r *roleFlags) String() string { return fmt.Sprint(*r) }

func (r *roleFlags) Set(v string) error {
	role := auth.Role(v)
	if !slices.Contains(auth.AllRoles, role) {
		return fmt.Errorf("unknown role %q (want one of %v)", v, auth.AllRoles)
	}
	if !slices.Contains(*r, role) {
		*r = append(*r, role)
	}
	return nil
}

// createKey issues a new key, for a new actor, to an existing tenant: the
// first half of a rotation (the second is revoking the old key once its users
// have moved), or a key for one of the tenant's customers.
func createKey(ctx context.Context, cfg config.Config, args []string) error {
	prefix, nk, err := parseKeyCreate(args)
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := tenantNamed(ctx, s, prefix)
	if err != nil {
		return err
	}
	if nk.Key, err = auth.NewKey(t.Prefix); err != nil {
		return err
	}
	nk.ActorID = uuid.NewString()
	id, err := s.AddKey(ctx, t.ID, nk)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	if nk.DisplayName == "" {
		nk.DisplayName = auth.DefaultDisplayName(nk.Roles, nk.Source, nk.AccountNumber)
	}
	out := map[string]any{"tenantId": t.ID, "prefix": t.Prefix, "keyId": id, "actorId": nk.ActorID, "displayName": nk.DisplayName,
		"roles": nk.Roles, "source": nk.Source, "key": nk.Key}
	if nk.AccountNumber != "" {
		out["accountNumber"] = nk.AccountNumber
	}
	return printValue(out)
}

// parseKeyCreate reads `tenant key create`'s flags into the tenant's prefix
// and the key to issue, without its key and actor.
func parseKeyCreate(args []string) (string, store.NewKey, error) {
	fs := flag.NewFlagSet("tenant key create", flag.ContinueOnError)
	prefix := fs.String("prefix", "", "the tenant's prefix")
	var roles roleFlags
	fs.Var(&roles, "role", "a role the key holds: "+fmt.Sprint(auth.AllRoles)+" (repeat for several)")
	signs := fs.Bool("hmac", false, "the key signs its requests (X-Key-Id and X-Signature) and is never sent itself")
	account := fs.String("customer", "", "the account number of the one customer whose contracts the key acts on (role submitter only)")
	displayName := fs.String("display-name", "", "who the key's actor is shown as beside its uuid, 1-100 characters (default: its roles, or its customer)")
	if err := fs.Parse(args); err != nil {
		return "", store.NewKey{}, err
	}
	customer, named := false, false
	fs.Visit(func(f *flag.Flag) {
		customer = customer || f.Name == "customer"
		named = named || f.Name == "display-name"
	})
	nk := store.NewKey{Roles: roles, Source: auth.SourceUser, DisplayName: *displayName}
	nameErr := auth.CheckDisplayName(*displayName)
	switch {
	case *prefix == "" || len(roles) == 0:
		return "", nk, errors.New("--prefix and at least one --role are required")
	case named && nameErr != nil:
		return "", nk, fmt.Errorf("--display-name: %w", nameErr)
	case !customer && *signs:
		nk.Source = auth.SourceHMAC
	case !customer:
	case strings.TrimSpace(*account) == "":
		return "", nk, errors.New("--customer needs the account number the key is for")
	case !utf8.ValidString(*account) || utf8.RuneCountInString(*account) > maxAccountNumber || strings.IndexFunc(*account, unicode.IsControl) >= 0:
		// Bounded as the API bounds an account number it looks up: a key
		// for another would never match. A new account's number is also
		// held to domain.CheckIdentifier, by the store, which knows
		// whether the account exists (store.AddKey).
		return "", nk, fmt.Errorf("--customer must be an account number: valid text of at most %d characters, without control characters", maxAccountNumber)
	case *signs:
		return "", nk, errors.New("--customer and --hmac cannot be combined: a key has one source, and a customer key's is CUSTOMER")
	case len(roles) != 1 || roles[0] != auth.RoleSubmitter:
		// Approving changes or running the tenant is the tenant's staff's
		// business, never a customer's, even for its own contracts.
		return "", nk, fmt.Errorf("a customer key may only hold the %s role, not %v", auth.RoleSubmitter, roles)
	default:
		nk.Source, nk.AccountNumber = auth.SourceCustomer, *account
	}
	return *prefix, nk, nil
}

// revokeKey revokes a key at once: keys are checked against the database on
// every request, never cached. It refuses the tenant's last active key
// with the operator role, which would lock the tenant out of everything
// that needs the role, unless --allow-last-operator says to.
func revokeKey(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("tenant key revoke", flag.ContinueOnError)
	prefix := fs.String("prefix", "", "the tenant's prefix")
	key := fs.String("key", "", "the key to revoke, or its keyId")
	allowLast := fs.Bool("allow-last-operator", false, "revoke the key even if it is the tenant's last active key with the operator role")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prefix == "" || *key == "" {
		return errors.New("--prefix and --key are required")
	}
	s, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := tenantNamed(ctx, s, *prefix)
	if err != nil {
		return err
	}
	revoke := s.RevokeKey
	if *allowLast {
		revoke = s.RevokeKeyAllowingLastOperator
	}
	err = revoke(ctx, t.ID, *key, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("tenant %s has no active key %q", t.Prefix, *key)
	case errors.Is(err, store.ErrLastOperatorKey):
		return fmt.Errorf("not revoked: the key is tenant %s's last active key with the operator role, without which nobody can "+
			"change its catalog, approval rules or webhooks or run its billing; issue another first "+
			"(contractd tenant key create --prefix %s --role operator), or pass --allow-last-operator to revoke it anyway",
			t.Prefix, t.Prefix)
	}
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	return printValue(map[string]any{"tenantId": t.ID, "prefix": t.Prefix, "revoked": true})
}

// tenantNamed finds a tenant by prefix, in any case, as DDCMS URLs do.
func tenantNamed(ctx context.Context, s *store.Store, prefix string) (store.Tenant, error) {
	t, err := s.TenantByPrefix(ctx, strings.ToUpper(prefix))
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("no tenant with prefix %q", prefix)
	}
	if err != nil {
		return t, fmt.Errorf("look up tenant: %w", err)
	}
	return t, nil
}

// printValue prints v as indented JSON.
func printValue(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
