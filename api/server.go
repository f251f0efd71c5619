// Package api is the HTTP face of the service: a Gin router, its middleware,
// and one file per API surface. Handlers authenticate, decode and validate,
// then hand every change to a Temporal workflow; they read Postgres directly
// for GETs but never write business state themselves.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
	"github.com/contractd/contractd/ui"
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
	// of twice that; over it a key gets 429. Zero turns limiting off.
	RateLimit rate.Limit
}

type server struct {
	Deps
	limits *keyLimiters
}

// MaxBodyBytes caps request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// NewRouter builds the HTTP handler with every route registered.
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
	s := &server{Deps: d, limits: newKeyLimiters(d.RateLimit)}
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(s.requestID, observeHTTP(d.Metrics), s.recoverPanics(generalErrors), s.accessLog, limitBody)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { generalErrors(c, http.StatusNotFound, "no such endpoint") })
	r.NoMethod(func(c *gin.Context) { generalErrors(c, http.StatusMethodNotAllowed, "method not allowed") })

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(metrics.Handler(d.Metrics, d.Logger)))
	registerOpenAPIRoutes(r)

	g := r.Group("/api", s.authenticate(generalErrors))
	g.GET("/catalog", tenantWide(generalErrors), s.getCatalog)
	g.PUT("/catalog", requireRole(auth.RoleOperator, generalErrors), s.putCatalog)
	g.POST("/contract-actions", requireRole(auth.RoleSubmitter, generalErrors), s.createContractAction)
	g.GET("/contracts", s.listContracts)
	g.GET("/contracts/:id", s.getContract)
	g.GET("/contracts/:id/amendments", s.listContractAmendments)
	g.GET("/amendments", s.listAmendments)
	g.GET("/amendments/:id", s.getAmendment)
	g.POST("/amendments/:id/withdraw", requireRole(auth.RoleSubmitter, generalErrors), s.withdrawAmendment)
	g.POST("/amendments/:id/approve", requireRole(auth.RoleApprover, generalErrors), s.approveAmendment)
	g.POST("/amendments/:id/reject", requireRole(auth.RoleApprover, generalErrors), s.rejectAmendment)
	g.GET("/approvals", requireRole(auth.RoleApprover, generalErrors), s.listApprovals)
	g.GET("/approval-rules", requireRole(auth.RoleOperator, generalErrors), s.getApprovalRules)
	g.PUT("/approval-rules", requireRole(auth.RoleOperator, generalErrors), s.putApprovalRules)

	cg := r.Group("/api/customers", s.authenticate(crossgradeErrors))
	cg.POST("/:customerId/contracts/:contractRef/crossgrade", requireRole(auth.RoleSubmitter, crossgradeErrors), s.crossgrade)

	ss := r.Group("/api/selfService", s.authenticate(selfServiceErrors))
	ss.POST("/contract", requireRole(auth.RoleSubmitter, selfServiceErrors), s.changeContract)
	s.registerTerminationRoutes(r)
	s.registerScheduleRoutes(r)
	ui.Register(r)
	s.registerWebhookRoutes(r)
	return r
}
