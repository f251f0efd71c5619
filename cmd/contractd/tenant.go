package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/store"
)

var prefixPattern = regexp.MustCompile(`^[A-Z0-9]{2,16}$`)

func runTenant(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: contractd tenant create --prefix P --name N")
	}
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	prefix := fs.String("prefix", "", "tenant prefix: 2-16 upper-case letters or digits (used in DDCMS URLs)")
	name := fs.String("name", "", "tenant display name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !prefixPattern.MatchString(*prefix) || *name == "" {
		return errors.New("--prefix (2-16 upper-case letters or digits) and --name are required")
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()

	// One key per role, each with its own actor, so four-eyes rules can tell them apart.
	plain := map[auth.Role]string{}
	var keys []store.NewKey
	for _, role := range auth.AllRoles {
		k, err := auth.NewKey(*prefix)
		if err != nil {
			return err
		}
		plain[role] = k
		keys = append(keys, store.NewKey{Key: k, ActorID: uuid.NewString(), Roles: []auth.Role{role}})
	}
	t, err := s.CreateTenant(ctx, store.Tenant{Prefix: *prefix, Name: *name}, keys)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	out := map[string]any{
		"tenantId": t.ID,
		"prefix":   t.Prefix,
		"keys": map[string]string{
			"submitter": plain[auth.RoleSubmitter],
			"approver":  plain[auth.RoleApprover],
			"operator":  plain[auth.RoleOperator],
		},
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
