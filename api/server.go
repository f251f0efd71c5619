// Package api is the HTTP face of the service: a Gin router, its middleware,
// and one file per API surface. Handlers authenticate, decode and validate,
// then hand every change to a Temporal workflow; they read Postgres directly
// for GETs but never write business state themselves.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/telemetry"
	"github.com/contractd/contractd/internal/webhooks"
)

// Deps are what the API needs; build them once per process.
type Deps struct {
	Store *store.Store
	// Temporal is how the API starts workflows and sends them Updates (it
	// signs those with the key the workers check).
	Temporal *flow.Client
	Logger   *slog.Logger
	// Now is the business clock (today's date for validation); defaults to time.Now.
	Now func() time.Time
	// Webhooks checks subscription URLs and sets how deliveries retry.
	Webhooks webhooks.Config
	// Metrics receives the HTTP metrics and is what /metrics serves; share it
	// with the Temporal client's metrics handler. Defaults to a new registry.
	Metrics *prometheus.Registry
	// RateLimit is the requests a second each API key may make, with bursts
	// of twice that, a large body counting as several (requestCost); over it
	// a key gets 429. Zero turns limiting off.
	RateLimit rate.Limit
	// AuthFailureRate is the failed authentications (401s) a second each
	// client address may cause, with bursts of twice that; while its
	// budget is spent, an address's requests get 429 before their
	// credential is looked up, except with one that authenticated lately
	// (authFailures). Zero turns the budget off.
	AuthFailureRate rate.Limit
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (the address failed authentications are counted against, logged and
	// traced); from any other peer the header is ignored. None: the peer is
	// the client.
	TrustedProxies []netip.Prefix
	// BillingRunWait is how long POST /api/billing/run waits for the run's
	// totals before answering 202 with where to follow it; zero answers 202
	// at once.
	BillingRunWait time.Duration
	// AmendmentWait is how long a change request waits for its amendment
	// workflow's answer before answering 202 with the amendment to follow;
	// a contract action waits as long for its workflow, then answers 202.
	// A change's wait bounds its start too, so it must leave time for that
	// (app gives config.DefaultAmendmentWait when unset): a wait that ends
	// before the start reaches Temporal is a 503.
	AmendmentWait time.Duration
	// BodyReadTimeout is how long after its handling starts (the server's
	// ReadHeaderTimeout bounds its headers) a request's body must have been
	// read: a body not all there by then is answered 408. The server's own
	// delay before reading counts too, beyond what it buffered at once
	// (4 KiB). Zero leaves the body's time unbounded.
	BodyReadTimeout time.Duration
	// Tracing traces every request as a server span of its provider,
	// continuing the caller's W3C trace context; nil traces nothing and adds
	// no middleware.
	Tracing trace.TracerProvider
}

type server struct {
	Deps
	limits       *keyLimiters
	authFailures *authFailures
	lookups      *sharedLookups
	signedBodies *signedBodies
	// rateLimited counts the 429s of each budget (budgetAPIKey, budgetAuthFailures, budgetSignedBodies).
	rateLimited *prometheus.CounterVec
}

// MaxBodyBytes caps request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// NewRouter builds the HTTP handler with every route registered (routes.go).
func NewRouter(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = metrics.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &server{
		Deps:         d,
		limits:       newKeyLimiters(d.RateLimit),
		authFailures: newAuthFailures(d.AuthFailureRate),
		lookups:      newSharedLookups(),
		signedBodies: newSignedBodies(MaxSignedBodiesPerAddress, MaxUnverifiedSignedBytes, signedBodyWait),
		rateLimited:  newRateLimited(d.Metrics),
	}
	r := gin.New()
	r.ContextWithFallback = true
	trustProxies(r, d.TrustedProxies)
	if d.Tracing != nil {
		r.Use(otelgin.Middleware("contractd", otelgin.WithTracerProvider(d.Tracing), otelgin.WithPropagators(telemetry.Propagator)))
	}
	r.Use(s.requestID)
	if d.Tracing != nil {
		r.Use(annotateSpan)
	}
	r.Use(observeHTTP(d.Metrics), s.recoverPanics(general{}), s.accessLog, s.limitBody)
	r.HandleMethodNotAllowed = true
	// No path is answered with gin's HTML redirect to another spelling of
	// it (a trailing slash added or taken away, or cleaned): a path no route
	// has is a 404 in its surface's format (routes' NoRoute). The v5
	// surface's paths are routed with and without the slash, and "/docs"
	// and "/ui" redirect to their pages (notFound).
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	s.routes(r)
	return headAsGet{r}
}

// trustProxies has gin take the client's address (ClientIP) from
// X-Forwarded-For only when the peer is one of proxies, walking the header
// from its right past the proxies' own addresses; gin's default trusts the
// header from every peer, letting a client name any address it likes.
// X-Real-IP is not read: a proxy that sets only it may pass a client's own
// through.
func trustProxies(r *gin.Engine, proxies []netip.Prefix) {
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	r.TrustedPlatform = ""
	var cidrs []string
	for _, p := range proxies {
		cidrs = append(cidrs, p.String())
	}
	if err := r.SetTrustedProxies(cidrs); err != nil {
		panic(fmt.Sprintf("api: trusted proxies %v: %v", cidrs, err)) // config.FromEnv checked them
	}
}
