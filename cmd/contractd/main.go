// Command contractd is the contract amendment service: one binary whose
// subcommands run the API, the worker, both with an embedded Temporal (`dev`),
// migrations and tenant administration.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/internal/config"
)

const usage = `usage: contractd <command> [arguments]

commands:
  dev                                  embedded Temporal + UI, worker and API in one process, demo tenant seeded
  api                                  HTTP API against an external Temporal (TEMPORAL_ADDRESS) and Postgres
  worker                               Temporal worker against an external Temporal and Postgres
  temporal                             only the embedded, file-backed Temporal server and UI (dev ports)
  migrate up|status                    apply or list the database migrations
  tenant create --prefix P --name N    create a tenant and print its three keys as JSON
  tenant key create --prefix P --role R [--role R2] [--hmac]
                                       add a key (a new actor) to a tenant and print it
  tenant key revoke --prefix P --key K revoke a key (by the key or its id); it gets 401 at once; the
                                       last operator key only with --allow-last-operator

operator commands (talk to the API at $CONTRACTD_URL with the key in $CONTRACTD_API_KEY):
  amendments list [--status REVIEW]    list amendments in a status, oldest first
  amendments show ID [--json]          summarise an amendment: change, amounts, review, history
  approve ID [--comment C] [--json]    approve an amendment held in REVIEW; prints its new state
  reject ID [--comment C] [--json]     reject an amendment held in REVIEW; prints its new state
  billing-run [--as-of D] [--json]     bill what is due by D (today), with a progress bar while it runs; operator key
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contractd:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "dev":
		err = app.RunDev(ctx, cfg)
	case "api":
		err = app.RunAPI(ctx, cfg)
	case "worker":
		err = app.RunWorker(ctx, cfg)
	case "temporal":
		err = app.RunTemporal(ctx, cfg)
	case "migrate":
		err = runMigrate(ctx, cfg, args)
	case "tenant":
		err = runTenant(ctx, cfg, args)
	case "amendments":
		err = runAmendments(ctx, os.Stdout, args)
	case "approve", "reject":
		err = runDecision(ctx, os.Stdout, cmd, args)
	case "billing-run":
		err = runBillingRun(ctx, os.Stdout, os.Stderr, args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "contractd: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "contractd "+cmd+":", err)
		os.Exit(1)
	}
}
