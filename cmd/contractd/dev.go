package main

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
)

// runDev runs everything in one process for a newcomer: Postgres schema and
// demo tenant, an embedded Temporal server with its UI (unless TEMPORAL_ADDRESS
// points elsewhere), the worker and the API.
func runDev(ctx context.Context, cfg config.Config) error {
	started := time.Now()
	logger := newLogger(cfg, false)
	if err := cfg.EnsureUpdateKey(); err != nil {
		return err
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	if err := demo.Seed(ctx, s, time.Now()); err != nil {
		return err
	}

	hostPort, uiAddr := cfg.TemporalAddress, ""
	if hostPort == "" {
		srv, err := startEmbeddedTemporal(cfg)
		if err != nil {
			return err
		}
		defer func() { _ = srv.Stop() }()
		hostPort, uiAddr = srv.HostPort(), srv.UIAddress()
	}
	// One registry: the API's /metrics shows the worker's metrics too.
	reg := metrics.NewRegistry()
	c, err := dialTemporal(hostPort, cfg.TemporalNamespace, cfg.GzipTemporal(cfg.TemporalAddress == ""), logger, reg)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := startWorker(ctx, cfg, s, c, true)
	if err != nil {
		return err
	}
	defer w.Stop()

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
	return serveHTTP(ctx, cfg.ListenAddr(true), newRouter(cfg, s, c, logger, reg, true), logger)
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

func startEmbeddedTemporal(cfg config.Config) (*devtemporal.Server, error) {
	srv, err := devtemporal.Start(devtemporal.Options{
		StateDir:         filepath.Join(cfg.StateDir, "temporal"),
		Namespace:        cfg.TemporalNamespace,
		SearchAttributes: flow.SearchAttributes,
		FrontendPort:     cfg.TemporalDevPort,
		UIPort:           cfg.TemporalUIPort,
		UIWriteActions:   cfg.TemporalUIWriteActions,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	return srv, nil
}

// runTemporal runs only the embedded, file-backed Temporal server and its UI,
// for running `api` and `worker` as separate processes on one machine (the
// fault-injection suite restarts each of them on its own).
func runTemporal(ctx context.Context, cfg config.Config) error {
	srv, err := startEmbeddedTemporal(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("contractd temporal is ready\n  Temporal     %s (namespace %q)\n  Temporal UI  %s\n",
		srv.HostPort(), cfg.TemporalNamespace, orNone(srv.UIAddress()))
	<-ctx.Done()
	return srv.Stop()
}
