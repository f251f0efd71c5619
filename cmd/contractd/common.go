package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
	"github.com/contractd/contractd/worker"
)

func newLogger(cfg config.Config, json bool) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return slog.New(slog.NewJSONHandler(os.Stdout, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stdout, opts))
}

// openStore connects to Postgres and refuses to run on a schema that is behind.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	status, err := s.MigrationStatus(ctx)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	for _, m := range status {
		if m.AppliedAt == nil {
			_ = s.Close()
			return nil, fmt.Errorf("migration %s is not applied: run `contractd migrate up` first", m.Name)
		}
	}
	return s, nil
}

// dialTemporal connects a client whose SDK metrics, and those of workers
// built on it, go to reg.
func dialTemporal(hostPort, namespace string, gzip bool, logger *slog.Logger, reg *prometheus.Registry) (client.Client, error) {
	var compression client.GrpcCompression = &client.GrpcCompressionGzip{}
	if !gzip {
		compression = &client.GrpcCompressionNone{}
	}
	c, err := client.Dial(client.Options{
		HostPort:       hostPort,
		Namespace:      namespace,
		Logger:         sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		MetricsHandler: metrics.NewTemporalHandler(reg),
		// Request and trace ids ride along into workflows and activities.
		// The API's signature on an Update rides in its header.
		ContextPropagators: []workflow.ContextPropagator{correlation.Propagator{}, flow.GrantPropagator{}},
		ConnectionOptions:  client.ConnectionOptions{GrpcCompression: compression},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}
	return c, nil
}

func temporalAddress(cfg config.Config) string {
	if cfg.TemporalAddress != "" {
		return cfg.TemporalAddress
	}
	return fmt.Sprintf("127.0.0.1:%d", cfg.TemporalDevPort)
}

// drainTimeout bounds how long serveHTTP waits for in-flight requests after
// ctx ends; requests still running then are cut off.
const drainTimeout = 30 * time.Second

// serveHTTP serves h until ctx ends, then stops accepting connections and
// lets in-flight requests finish, for up to drainTimeout.
func serveHTTP(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down http server")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func runAPI(ctx context.Context, cfg config.Config) error {
	logger := newLogger(cfg, true)
	if err := cfg.EnsureUpdateKey(); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	reg := metrics.NewRegistry()
	c, err := dialTemporal(temporalAddress(cfg), cfg.TemporalNamespace, cfg.GzipTemporal(false), logger, reg)
	if err != nil {
		return err
	}
	defer c.Close()
	logger.Info("api listening", "addr", cfg.ListenAddr(false))
	startProfiling(ctx, cfg.PprofAddr, logger)
	return serveHTTP(ctx, cfg.ListenAddr(false), newRouter(cfg, s, c, logger, reg, false), logger)
}

// newRouter builds the API; dev allows insecure webhook URLs unless told otherwise.
func newRouter(cfg config.Config, s *store.Store, c client.Client, logger *slog.Logger, reg *prometheus.Registry, dev bool) http.Handler {
	return api.NewRouter(api.Deps{
		Store: s, Temporal: flow.NewClient(c, cfg.TemporalTaskQueue, cfg.UpdateKey), Logger: logger, Metrics: reg,
		Webhooks:  webhooks.Config{AllowInsecure: cfg.AllowInsecureWebhooks(dev)},
		RateLimit: rate.Limit(cfg.RateLimitPerSecond),
	})
}

// startWorker prepares the namespace (search attributes, the daily billing
// schedule) and starts a worker with every workflow and activity.
func startWorker(ctx context.Context, cfg config.Config, s *store.Store, c client.Client, dev bool) (sdkworker.Worker, error) {
	if err := worker.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return nil, err
	}
	temporal := flow.NewClient(c, cfg.TemporalTaskQueue, cfg.UpdateKey)
	if err := temporal.EnsureBillingSchedule(ctx); err != nil {
		return nil, err
	}
	// Cached workflows are what a worker's memory grows with (each holds its
	// state and goroutines); one evicted is replayed from history when it
	// next has work, so the bound trades memory for replays, never results.
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	w := worker.New(c, cfg.TemporalTaskQueue, activities.Deps{
		Store: s, Temporal: temporal, Webhooks: webhooks.NewSender(webhooks.Config{AllowInsecure: cfg.AllowInsecureWebhooks(dev)}),
	}, worker.Options{UpdateKey: cfg.UpdateKey})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return w, nil
}

func runWorker(ctx context.Context, cfg config.Config) error {
	logger := newLogger(cfg, true)
	if err := cfg.EnsureUpdateKey(); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	reg := metrics.NewRegistry()
	c, err := dialTemporal(temporalAddress(cfg), cfg.TemporalNamespace, cfg.GzipTemporal(false), logger, reg)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := startWorker(ctx, cfg, s, c, false)
	if err != nil {
		return err
	}
	// Once serveHTTP returns, Stop lets running activities finish, for up to
	// worker.StopTimeout.
	defer w.Stop()
	logger.Info("worker polling", "taskQueue", cfg.TemporalTaskQueue, "temporal", temporalAddress(cfg), "metrics", cfg.ListenAddr(false))
	startProfiling(ctx, cfg.PprofAddr, logger)
	return serveHTTP(ctx, cfg.ListenAddr(false), workerHTTP(reg, logger), logger)
}

// workerHTTP is what a worker serves on HTTP_ADDR: its metrics (the SDK's
// worker metrics and contractd_amendments_total) and a liveness probe.
func workerHTTP(reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg, logger))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"up"}`)
	})
	return mux
}

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
