package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the app database's driver
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/internal/testkit/invariants"
)

// checkInvariants runs the fault suite's invariant checker
// (internal/testkit/invariants) against a running stack: the app database and
// every amendment's Temporal workflow. It prints each violation and fails if
// there is any, so the script can show whether a run with a worker killed
// lost or doubled anything.
func checkInvariants(args []string) error {
	fs := flag.NewFlagSet("invariants", flag.ExitOnError)
	databaseURL := fs.String("database-url", "", "the contractd database")
	address := fs.String("address", "127.0.0.1:7233", "Temporal frontend host:port")
	namespace := fs.String("namespace", "default", "the namespace contractd runs in")
	settle := fs.Duration("settle", 30*time.Second, "how long a workflow finishing its last step has to agree with Postgres")
	_ = fs.Parse(args)

	ctx := context.Background()
	db, err := sqlx.Open("postgres", *databaseURL)
	if err != nil {
		return fmt.Errorf("open %s: %w", *databaseURL, err)
	}
	defer db.Close()
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: *address, Namespace: *namespace, Logger: logger})
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", *address, err)
	}
	defer c.Close()
	violations, err := invariants.Check(ctx, db, c, *settle)
	if err != nil {
		return err
	}
	for _, v := range violations {
		fmt.Println("violation:", v)
	}
	if len(violations) > 0 {
		return fmt.Errorf("%d invariant violations", len(violations))
	}
	fmt.Printf("all %d invariants hold\n", len(invariants.Names()))
	return nil
}
