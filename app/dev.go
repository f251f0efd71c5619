package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/devtemporal"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/telemetry"
)

// RunDev runs `contractd dev`, everything in one process for a newcomer:
// Postgres schema and demo tenant, an embedded Temporal server with its UI
// (unless TEMPORAL_ADDRESS points elsewhere), the worker and the API.
func RunDev(ctx context.Context, cfg config.Config) error {
	started := time.Now()
	logger := newLogger(cfg, false)
	if err := cfg.EnsureUpdateKey(); err != nil {
		return err
	}
	tracing, err := telemetry.FromEnv(ctx, "contractd")
	if err != nil {
		return err
	}
	defer flushTraces(tracing, logger)
	s, err := prepareDevStore(ctx, cfg, storeOptions(tracing.Provider)...)
	if err != nil {
		return err
	}
	defer s.Close()

	hostPort, uiAddr := cfg.TemporalAddress, ""
	var embedded *devtemporal.Server
	if hostPort == "" {
		if err := claimTemporalStateFor(ctx, cfg, s); err != nil {
			return err
		}
		srv, err := startEmbeddedTemporal(cfg)
		if err != nil {
			return err
		}
		defer func() { _ = srv.Stop() }()
		hostPort, uiAddr, embedded = srv.HostPort(), srv.UIAddress(), srv
	}
	// One registry: the API's /metrics shows the worker's metrics too.
	reg := metrics.NewRegistry()
	c, err := dialTemporal(ctx, hostPort, cfg.TemporalNamespace, cfg.GzipTemporal(cfg.TemporalAddress == ""), embeddedToken(cfg), logger, reg, tracing.Provider)
	if err != nil {
		return err
	}
	defer c.Close()
	svc := newService(cfg, s, c, logger, reg, true)
	svc.Tracing = tracing.Provider
	w, err := startWorker(ctx, cfg, svc)
	if err != nil {
		return err
	}
	defer w.Stop()
	if embedded != nil {
		// Deferred after the worker's stop, so it runs before it.
		defer embedded.Quiet()
	}

	fmt.Printf(`
contractd dev is ready (%s)
  API          http://%s
  Temporal     %s (namespace %q)
  Temporal UI  %s
  demo tenant  %s
  keys (dev only, never use in production)
    submitter  %s
    approver   %s
    operator   %s

`, time.Since(started).Round(time.Millisecond), displayAddr(cfg.ListenAddr(true)), hostPort, cfg.TemporalNamespace, orNone(uiAddr),
		demo.Prefix, demo.SubmitterKey, demo.ApproverKey, demo.OperatorKey)
	startProfiling(ctx, cfg.PprofAddr, logger)
	return serveHTTP(ctx, cfg.ListenAddr(true), svc.Router(), logger)
}

// prepareDevStore creates the database if needed, brings its schema up to
// date and seeds the demo tenant.
func prepareDevStore(ctx context.Context, cfg config.Config, opts ...store.Option) (*store.Store, error) {
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := demo.Seed(ctx, s, time.Now()); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func displayAddr(addr string) string {
	if len(addr) > 0 && addr[0] == ':' {
		return "localhost" + addr
	}
	return addr
}

func orNone(s string) string {
	if s == "" {
		return "(external Temporal: use its own UI)"
	}
	return s
}

// embeddedStateDir is where the embedded Temporal server keeps its file.
func embeddedStateDir(cfg config.Config) string { return filepath.Join(cfg.StateDir, "temporal") }

// claimTemporalStateFor pairs the embedded server's state with s's
// database, or refuses it (claimTemporalState).
func claimTemporalStateFor(ctx context.Context, cfg config.Config, s *store.Store) error {
	databaseID, err := s.DatabaseID(ctx)
	if err != nil {
		return err
	}
	return claimTemporalState(embeddedStateDir(cfg), databaseID)
}

func startEmbeddedTemporal(cfg config.Config) (*devtemporal.Server, error) {
	srv, err := devtemporal.Start(devtemporal.Options{
		StateDir:         embeddedStateDir(cfg),
		Namespace:        cfg.TemporalNamespace,
		SearchAttributes: flow.SearchAttributes,
		FrontendPort:     cfg.TemporalDevPort,
		UIPort:           cfg.TemporalUIPort,
		UIWriteActions:   cfg.TemporalUIWriteActions,
		WriteToken:       embeddedServerToken(cfg),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	return srv, nil
}

// RunTemporal runs `contractd temporal`: only the embedded, file-backed
// Temporal server and its UI, for running `api` and `worker` as separate
// processes on one machine (the fault-injection suite restarts each of them
// on its own).
func RunTemporal(ctx context.Context, cfg config.Config) error {
	// The key api and worker derive the server's write token from.
	if err := cfg.EnsureUpdateKey(); err != nil {
		return err
	}
	srv, err := startEmbeddedTemporal(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("contractd temporal is ready\n  Temporal     %s (namespace %q)\n  Temporal UI  %s\n",
		srv.HostPort(), cfg.TemporalNamespace, orNone(srv.UIAddress()))
	<-ctx.Done()
	return srv.Stop()
}
