package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/worker"
	"github.com/contractd/contractd/workflows"
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

func dialTemporal(hostPort, namespace string, logger *slog.Logger) (client.Client, error) {
	c, err := client.Dial(client.Options{
		HostPort:  hostPort,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
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

// serveHTTP runs the API until ctx ends, then drains in-flight requests.
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func runAPI(ctx context.Context, cfg config.Config) error {
	logger := newLogger(cfg, true)
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := dialTemporal(temporalAddress(cfg), cfg.TemporalNamespace, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	logger.Info("api listening", "addr", cfg.HTTPAddr)
	return serveHTTP(ctx, cfg.HTTPAddr, api.NewRouter(api.Deps{Store: s, Temporal: c, TaskQueue: cfg.TemporalTaskQueue, Logger: logger}), logger)
}

func runWorker(ctx context.Context, cfg config.Config) error {
	logger := newLogger(cfg, true)
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := dialTemporal(temporalAddress(cfg), cfg.TemporalNamespace, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := worker.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return err
	}
	if err := workflows.EnsureBillingSchedule(ctx, c, cfg.TemporalTaskQueue); err != nil {
		return err
	}
	w := worker.New(c, cfg.TemporalTaskQueue, activities.New(s))
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("worker polling", "taskQueue", cfg.TemporalTaskQueue, "temporal", temporalAddress(cfg))
	<-ctx.Done()
	// Stop waits for running activities to finish before returning.
	w.Stop()
	return nil
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
