package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/internal/config"
	_ "github.com/contractd/contractd/internal/fastgzip" // gRPC's gzip (requests to Temporal) at BestSpeed, process-wide
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/telemetry"
	"github.com/contractd/contractd/internal/webhooks"
)

// RunAPI runs `contractd api`: the HTTP API against an external Temporal and
// Postgres, until ctx ends.
func RunAPI(ctx context.Context, cfg config.Config) error {
	svc, closeAll, err := connect(ctx, cfg, "contractd-api")
	if err != nil {
		return err
	}
	defer closeAll()
	svc.Logger.Info("api listening", "addr", cfg.ListenAddr(false))
	startProfiling(ctx, cfg.PprofAddr, svc.Logger)
	return serveHTTP(ctx, cfg.ListenAddr(false), svc.Router(), svc.Logger)
}

// RunWorker runs `contractd worker`: the Temporal worker against an external
// Temporal and Postgres, serving its metrics on HTTP, until ctx ends.
func RunWorker(ctx context.Context, cfg config.Config) error {
	svc, closeAll, err := connect(ctx, cfg, "contractd-worker")
	if err != nil {
		return err
	}
	defer closeAll()
	w, err := startWorker(ctx, cfg, svc)
	if err != nil {
		return err
	}
	// Once serveHTTP returns, Stop lets running activities finish, for up to
	// worker.StopTimeout.
	defer w.Stop()
	svc.Logger.Info("worker polling", "taskQueue", cfg.TemporalTaskQueue, "temporal", temporalAddress(cfg), "metrics", cfg.ListenAddr(false))
	startProfiling(ctx, cfg.PprofAddr, svc.Logger)
	return serveHTTP(ctx, cfg.ListenAddr(false), workerHTTP(svc.Metrics, svc.Logger), svc.Logger)
}

// connect builds the service of `api` and `worker`: JSON logs, tracing as
// the OTEL_* variables say (serviceName is its default service.name), the
// store on an up-to-date schema and a client of the external Temporal.
// closeAll closes the client, then the store, then flushes the traces.
func connect(ctx context.Context, cfg config.Config, serviceName string) (svc *Service, closeAll func(), err error) {
	logger := newLogger(cfg, true)
	if err := cfg.EnsureUpdateKey(); err != nil {
		return nil, nil, err
	}
	tracing, err := telemetry.FromEnv(ctx, serviceName)
	if err != nil {
		return nil, nil, err
	}
	s, err := OpenStore(ctx, cfg, storeOptions(tracing.Provider)...)
	if err != nil {
		flushTraces(tracing, logger)
		return nil, nil, err
	}
	reg := metrics.NewRegistry()
	c, err := dialTemporal(ctx, temporalAddress(cfg), cfg.TemporalNamespace, cfg.GzipTemporal(false), embeddedToken(cfg), logger, reg, tracing.Provider)
	if err != nil {
		_ = s.Close()
		flushTraces(tracing, logger)
		return nil, nil, err
	}
	svc = newService(cfg, s, c, logger, reg, false)
	svc.Tracing = tracing.Provider
	return svc, func() { c.Close(); _ = s.Close(); flushTraces(tracing, logger) }, nil
}

// flushTraces exports the spans still buffered when the process stops,
// waiting at most traceFlushTimeout for the collector.
func flushTraces(tracing telemetry.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
	defer cancel()
	if err := tracing.Shutdown(ctx); err != nil {
		logger.Warn("traces not flushed", "err", err)
	}
}

const traceFlushTimeout = 5 * time.Second

// newService is the service a command runs; dev allows insecure webhook URLs
// unless told otherwise.
func newService(cfg config.Config, s *store.Store, c client.Client, logger *slog.Logger, reg *prometheus.Registry, dev bool) *Service {
	return &Service{
		Store: s, Temporal: c, TaskQueue: cfg.TemporalTaskQueue, Logger: logger, Metrics: reg,
		Webhooks:        webhooks.Config{AllowInsecure: cfg.AllowInsecureWebhooks(dev)},
		RateLimit:       rate.Limit(cfg.RateLimitPerSecond),
		AuthFailureRate: rate.Limit(cfg.AuthFailuresPerSecond), TrustedProxies: cfg.TrustedProxies,
		UpdateKey: cfg.UpdateKey, BillingRunWait: cfg.BillingRunWait, AmendmentWait: cfg.AmendmentWait,
		BodyReadTimeout: cfg.BodyReadTimeout,
	}
}

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

// OpenStore connects to Postgres and refuses to run on a schema that is behind.
func OpenStore(ctx context.Context, cfg config.Config, opts ...store.Option) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.DatabaseURL, opts...)
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

// storeOptions are how a store is opened for tracing (nil is none).
func storeOptions(tracing trace.TracerProvider) []store.Option {
	if tracing == nil {
		return nil
	}
	return []store.Option{store.WithTracing(tracing)}
}

// dialTemporal connects a client whose SDK metrics, and those of workers
// built on it, go to reg, and whose spans to tracing (nil is none). A
// token is presented as an API key, in clear on loopback: the embedded
// server's (see embeddedToken).
func dialTemporal(ctx context.Context, hostPort, namespace string, gzip bool, token string, logger *slog.Logger, reg *prometheus.Registry, tracing trace.TracerProvider) (client.Client, error) {
	var compression client.GrpcCompression = &client.GrpcCompressionGzip{}
	if !gzip {
		compression = &client.GrpcCompressionNone{}
	}
	opts, err := ClientOptions(logger, tracing)
	if err != nil {
		return nil, err
	}
	opts.HostPort, opts.Namespace = hostPort, namespace
	opts.MetricsHandler = metrics.NewTemporalHandler(reg)
	opts.ConnectionOptions = client.ConnectionOptions{GrpcCompression: compression}
	if token != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(token)
		opts.ConnectionOptions.TLSDisabled = true
	}
	// The patience is counted on the wall clock: a dial can itself take a
	// while (a host that drops packets) before it fails.
	start, reported := time.Now(), time.Time{}
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, ctx.Err())
		}
		var unavailable *serviceerror.Unavailable
		if !errors.As(err, &unavailable) || time.Since(start) >= temporalDialPatience {
			return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
		}
		if time.Since(reported) >= temporalDialReport {
			reported = time.Now()
			logger.Warn("Temporal is not ready; trying again", "temporal", hostPort, "waited", time.Since(start).Round(time.Second), "err", err)
		}
		select { // a stop ends the wait: the dial after it fails on ctx
		case <-ctx.Done():
		case <-time.After(temporalDialRetry):
		}
	}
}

// A Temporal frontend answers Unavailable ("Frontend is not healthy yet")
// for a while after its port opens, and refuses connections before: a
// process started beside it (compose, the fault suite, a rolling restart)
// waits up to temporalDialPatience for it instead of exiting at once. Any
// other refusal (a bad namespace, a wrong token) ends the start at once.
const (
	temporalDialPatience = time.Minute
	temporalDialRetry    = 500 * time.Millisecond
	temporalDialReport   = 10 * time.Second // how often the wait is logged
)

// embeddedToken is what a process presents to the embedded Temporal server
// (`dev`, `contractd temporal`) to write there: when it dials that server
// (TEMPORAL_ADDRESS unset, or the loopback address of TEMPORAL_DEV_PORT),
// unless the server lets anyone write (its UI's write actions on). Nothing
// goes to an external Temporal, whose operators set its own authorization.
func embeddedToken(cfg config.Config) string {
	if cfg.TemporalUIWriteActions {
		return ""
	}
	switch host, port, _ := net.SplitHostPort(cfg.TemporalAddress); {
	case cfg.TemporalAddress == "",
		port == strconv.Itoa(cfg.TemporalDevPort) && (host == "localhost" || net.ParseIP(host).IsLoopback()):
		return cfg.EmbeddedTemporalToken()
	}
	return ""
}

// embeddedServerToken is what the embedded server asks of writers: the
// token, unless its UI's write actions let anyone write.
func embeddedServerToken(cfg config.Config) string {
	if cfg.TemporalUIWriteActions {
		return ""
	}
	return cfg.EmbeddedTemporalToken()
}

func temporalAddress(cfg config.Config) string {
	if cfg.TemporalAddress != "" {
		return cfg.TemporalAddress
	}
	return fmt.Sprintf("127.0.0.1:%d", cfg.TemporalDevPort)
}

// startWorker prepares the namespace (search attributes, the daily billing
// schedule) and starts a worker with every workflow and activity.
func startWorker(ctx context.Context, cfg config.Config, svc *Service) (sdkworker.Worker, error) {
	if err := EnsureSearchAttributes(ctx, svc.Temporal, cfg.TemporalNamespace); err != nil {
		return nil, err
	}
	if err := svc.flowClient().EnsureBillingSchedule(ctx); err != nil {
		return nil, err
	}
	if err := svc.flowClient().EnsureTermsSchedule(ctx); err != nil {
		return nil, err
	}
	// Cached workflows are what a worker's memory grows with (each holds its
	// state and goroutines); one evicted is replayed from history when it
	// next has work, so the bound trades memory for replays, never results.
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	w := svc.NewWorker()
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return w, nil
}

// DrainTimeout bounds how long serveHTTP waits for in-flight requests after
// ctx ends; requests still running then are cut off.
const DrainTimeout = 30 * time.Second

// serveHTTP serves h until ctx ends, then stops accepting connections and
// lets in-flight requests finish, for up to DrainTimeout.
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
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
