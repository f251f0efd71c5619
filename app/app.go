// Package app is the composition root: the one place the process is wired,
// from configuration to the store, the Temporal client, the worker with its
// activities and the API router. `contractd dev`, `api` and `worker` run
// through it (RunDev, RunAPI, RunWorker), and so do the test kit, the fuzz
// tests and scripts/perfsetup (Service, ClientOptions, EnsureSearchAttributes),
// so a test boots the service exactly as production does.
//
// It sits beside cmd/ because it imports every layer (api, workflows,
// activities, worker); nothing but commands, scripts, the test kit and tests
// may import it (app/layout_test.go checks that).
package app

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/telemetry"
	"github.com/contractd/contractd/internal/webhooks"
	"github.com/contractd/contractd/worker"
)

// Service is what the worker and the API of one process share. The
// commands build it from the configuration; tests build it with their own
// database, Temporal server, task queue and clock.
type Service struct {
	Store    *store.Store
	Temporal client.Client
	// TaskQueue is the queue the worker polls and the API starts workflows on.
	TaskQueue string
	// Now is the business clock; nil is the wall clock.
	Now func() time.Time
	// Webhooks checks subscription URLs in the API and sets how the worker
	// delivers (which addresses it may reach, how it retries).
	Webhooks webhooks.Config
	// UpdateKey signs the Updates the API sends and checks them in the worker.
	UpdateKey flow.UpdateKey
	// Logger is the API's logger; nil is slog's default.
	Logger *slog.Logger
	// Metrics is what the API's /metrics serves; nil is a registry of its own.
	Metrics *prometheus.Registry
	// RateLimit is each API key's requests a second; zero turns limiting off.
	RateLimit rate.Limit
	// AuthFailureRate is each client address's failed authentications a
	// second (api.Deps.AuthFailureRate); zero turns the budget off.
	AuthFailureRate rate.Limit
	// TrustedProxies are the peers whose X-Forwarded-For names the client;
	// none trusts no peer's.
	TrustedProxies []netip.Prefix
	// BillingRunWait is how long a billing run request waits for the run's
	// totals; zero is config.DefaultBillingRunWait.
	BillingRunWait time.Duration
	// AmendmentWait is how long a change request waits for its amendment
	// workflow's answer, and a contract action for its workflow's; zero is
	// config.DefaultAmendmentWait.
	AmendmentWait time.Duration
	// BodyReadTimeout is how long after its headers a request's body must
	// have been read; zero is config.DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// Tracing is the tracer provider of the API's requests and the payment
	// provider's calls; nil traces nothing. Temporal must then be a client
	// built with ClientOptions on the same provider (it traces workflows and
	// activities, in its workers too), and Store one opened with it.
	Tracing trace.TracerProvider
}

// Router builds the API.
func (s *Service) Router() http.Handler {
	return api.NewRouter(api.Deps{
		Store: s.Store, Temporal: s.flowClient(), Logger: s.Logger, Now: s.Now,
		Webhooks: s.Webhooks, Metrics: s.Metrics, RateLimit: s.RateLimit,
		AuthFailureRate: s.AuthFailureRate, TrustedProxies: s.TrustedProxies,
		BillingRunWait:  orDefault(s.BillingRunWait, config.DefaultBillingRunWait),
		AmendmentWait:   orDefault(s.AmendmentWait, config.DefaultAmendmentWait),
		BodyReadTimeout: orDefault(s.BodyReadTimeout, config.DefaultBodyReadTimeout),
		Tracing:         s.Tracing,
	})
}

// NewWorker builds, without starting it, a worker on s.TaskQueue with every
// workflow and activity; extra interceptors (tests inject faults with one)
// run inside the worker's own.
func (s *Service) NewWorker(extra ...interceptor.WorkerInterceptor) sdkworker.Worker {
	return worker.New(s.Temporal, s.TaskQueue, s.activities(), worker.Options{UpdateKey: s.UpdateKey, Interceptors: extra})
}

// flowClient is the typed Temporal client the API and the activities start
// and update workflows through.
func (s *Service) flowClient() *flow.Client {
	return flow.NewClient(s.Temporal, s.TaskQueue, s.UpdateKey)
}

// activities are the dependencies every activity is built from, complete
// (activities.New fills in the wall clock when Now is nil). It is the one
// place they are put together.
func (s *Service) activities() activities.Deps {
	var provider payments.Provider = payments.NewSandbox(s.Store.DB())
	if s.Tracing != nil {
		provider = payments.Traced(provider, s.Tracing)
	}
	return activities.Deps{
		Store: s.Store, Now: s.Now, Payments: provider,
		Webhooks: webhooks.NewSender(s.Webhooks), Temporal: s.flowClient(),
	}
}

// ClientOptions are the Temporal client options every process and test
// shares: the SDK (and the workflows and activities, which log through it)
// logs to logger, and the request and trace ids and the API's signature on
// an Update ride along in workflow and activity headers. With tracing (nil
// is none), what the client sends and what workers built on it run are
// spans of its trace.
func ClientOptions(logger *slog.Logger, tracing trace.TracerProvider) (client.Options, error) {
	opts := client.Options{
		Logger:             sdklog.NewStructuredLogger(slog.New(canceledHeartbeatsQuiet{logger.Handler()}).With("component", "temporal-sdk")),
		ContextPropagators: []workflow.ContextPropagator{correlation.Propagator{}, flow.GrantPropagator{}},
	}
	if tracing != nil {
		i, err := telemetry.TemporalInterceptor(tracing)
		if err != nil {
			return client.Options{}, err
		}
		opts.Interceptors = []interceptor.ClientInterceptor{i}
	}
	return opts, nil
}

// EnsureSearchAttributes registers in namespace the search attributes the
// workflows set; attributes already present are kept.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	return worker.EnsureSearchAttributes(ctx, c, namespace)
}

// SearchAttributeNames lists, sorted, the search attributes EnsureSearchAttributes registers.
func SearchAttributeNames() []string {
	return slices.Sorted(maps.Keys(flow.SearchAttributes))
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
