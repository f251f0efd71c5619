// Command perfsetup prepares a standalone Temporal server and a tenant for
// scripts/perf-temporal-postgres.sh, doing what docker-compose.yml's
// temporal-namespace service and an operator would do by hand:
//
//	perfsetup namespace -address 127.0.0.1:17233 -namespace default
//	    waits for the frontend, registers the namespace if it is missing,
//	    registers contractd's search attributes and returns once every
//	    Temporal service can use them (app.EnsureSearchAttributes).
//	perfsetup catalog
//	    prints the demo catalog (internal/demo) as JSON, for PUT /api/catalog.
//	perfsetup invariants -database-url URL -address 127.0.0.1:17233
//	    checks the fault suite's invariants against the running stack and
//	    exits non-zero if any is broken.
//
// It exists only because this repository builds everything from the Go module
// cache: the Temporal CLI is not a dependency.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/internal/demo"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: perfsetup namespace [flags] | catalog | invariants [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "namespace":
		err = namespace(os.Args[2:])
	case "catalog":
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(demo.Catalog())
	case "invariants":
		err = checkInvariants(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "perfsetup:", err)
		os.Exit(1)
	}
}

func namespace(args []string) error {
	fs := flag.NewFlagSet("namespace", flag.ExitOnError)
	address := fs.String("address", "127.0.0.1:7233", "Temporal frontend host:port")
	name := fs.String("namespace", "default", "namespace to register")
	retention := fs.Duration("retention", 720*time.Hour, "workflow retention of a new namespace")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after this long")
	_ = fs.Parse(args)

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	// The frontend answers health checks a little after it opens its port.
	nc, err := retry(ctx, "connect to "+*address, func() (client.NamespaceClient, error) {
		return client.NewNamespaceClient(client.Options{HostPort: *address, Logger: logger})
	})
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, *name)
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound):
		err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        *name,
			WorkflowExecutionRetentionPeriod: durationpb.New(*retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("register namespace %q: %w", *name, err)
		}
		fmt.Printf("registered namespace %q (retention %s)\n", *name, *retention)
	case err != nil:
		return fmt.Errorf("describe namespace %q: %w", *name, err)
	default:
		fmt.Printf("namespace %q already exists\n", *name)
	}

	// A new namespace reaches the frontend's cache within about 10 seconds;
	// until then calls in it fail with NamespaceNotFound.
	c, err := retry(ctx, "connect in namespace "+*name, func() (client.Client, error) {
		return client.Dial(client.Options{HostPort: *address, Namespace: *name, Logger: logger})
	})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := retry(ctx, "register search attributes", func() (struct{}, error) {
		return struct{}{}, app.EnsureSearchAttributes(ctx, c, *name)
	}); err != nil {
		return err
	}
	fmt.Printf("namespace %q is ready with search attributes %s\n", *name, app.SearchAttributeNames())
	return nil
}

// retry calls f every second until it succeeds or ctx ends.
func retry[T any](ctx context.Context, what string, f func() (T, error)) (T, error) {
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%s: %w", what, err)
		case <-time.After(time.Second):
		}
	}
}
