package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/store"
)

func runMigrate(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return errors.New("usage: contractd migrate up|status")
	}
	if args[0] == "up" {
		if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	if args[0] == "up" {
		applied, err := s.Migrate(ctx)
		for _, m := range applied {
			fmt.Println("applied", m.Name)
		}
		if err == nil && len(applied) == 0 {
			fmt.Println("schema is up to date")
		}
		return err
	}
	status, err := s.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range status {
		state := "pending"
		if m.AppliedAt != nil {
			state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Printf("%-40s %s\n", m.Name, strings.TrimSpace(state))
	}
	return nil
}
