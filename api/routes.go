package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/metrics"
	"github.com/contractd/contractd/ui"
)

// routes registers every route of the service, one a line: the table a
// reader looks up a path in. Each API surface is a group carrying its
// authentication and error format (its surface); a line adds the route's
// own guards (role, tenant-wide) and the query parameters it reads (reads)
// before its handler. Every route of the general surface declares them,
// reads(gs) when it reads none (declaringGroup), and refuses any other.
//
// The v5 termination paths are also served with a trailing slash: the seed
// writes them so and clients send either, and answering both spares them
// gin's redirect, which not every client follows for a write.
//
// Long: it is longer than a function should be on purpose: it is the table, and
// split up it would no longer show every route in one place.
func (s *server) routes(r *gin.Engine) {
	r.NoRoute(notFound)
	r.NoMethod(func(c *gin.Context) {
		reject(c, surfaceAt(c.Request.URL.Path), http.StatusMethodNotAllowed, "method not allowed")
	})
	var (
		gs = general{}
		v5 = v5Surface{}
		dd = ddcmsSurface{}
		cg = crossgradeSurface{}
		ss = selfServiceSurface{}

		api   = declaringGroup{r.Group("/api", s.authenticate(gs))}
		cust  = r.Group(crossgradePrefix, s.authenticate(cg))
		self  = r.Group(selfServicePrefix, s.authenticate(ss))
		ddcms = r.Group(ddcmsPrefix+"/:clientPrefix/contract/:contractId",
			s.recoverPanics(dd), guidRoute, s.authenticate(dd), requireRole(auth.RoleSubmitter, dd), staffOnly(dd, ddcmsStaffOnly))
		term = r.Group(v5Prefix,
			trackingHeader, s.recoverPanics(v5), s.authenticate(v5), tenantWide(v5))

		submitter = requireRole(auth.RoleSubmitter, gs)
		approver  = requireRole(auth.RoleApprover, gs)
		operator  = requireRole(auth.RoleOperator, gs)
		v5Writer  = requireRole(auth.RoleOperator, v5)
		v5Pages   = reads(v5, "pageNumber", "pageSize", "excludeTotalCount")
		slash     = func(method, path string, h ...gin.HandlerFunc) {
			term.Handle(method, path, h...)
			term.Handle(method, path+"/", h...)
		}
	)

	// Public: probes, metrics, the API document, the UI. Every GET answers
	// HEAD too (headAsGet): load balancers probe with it.
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(metrics.Handler(s.Metrics, s.Logger)))
	r.GET("/openapi.json", serveOpenAPI)
	r.GET("/docs/*file", gin.WrapH(docsHandler()))
	ui.Register(r)

	// The service's own endpoints.
	api.GET("/catalog", tenantWide(gs), reads(gs), s.getCatalog)
	api.PUT("/catalog", operator, reads(gs), s.putCatalog)
	api.POST("/contract-actions", submitter, reads(gs), s.createContractAction)
	api.GET("/contracts", reads(gs, "status", "pageSize", "pageToken", "accountNumber"), s.listContracts)
	api.GET("/contracts/:id", reads(gs, "asOf"), s.getContract)
	api.GET("/contracts/:id/amendments", reads(gs, "pageSize", "pageToken"), s.listContractAmendments)
	api.GET("/contracts/:id/segments", reads(gs, "pageSize", "pageToken"), s.listContractSegments)
	api.GET("/contracts/:id/schedule-history", reads(gs, "pageSize", "pageToken"), s.listContractScheduleHistory)
	api.GET("/contracts/:id/timeline", reads(gs), s.getContractTimeline)
	api.GET("/contracts/:id/invoices", reads(gs), s.listInvoices)
	api.GET("/accounts/:accountNumber/balance", reads(gs), s.getAccountBalance)
	api.GET("/amendments", reads(gs, "status", "pageSize", "pageToken"), s.listAmendments)
	api.GET("/amendments/:id", reads(gs), s.getAmendment)
	api.POST("/amendments/:id/withdraw", submitter, reads(gs), s.withdrawAmendment)
	api.POST("/amendments/:id/approve", approver, reads(gs), s.approveAmendment)
	api.POST("/amendments/:id/reject", approver, reads(gs), s.rejectAmendment)
	api.GET("/approvals", approver, reads(gs, "pageSize", "pageToken"), s.listApprovals)
	api.GET("/approval-rules", operator, reads(gs), s.getApprovalRules)
	api.PUT("/approval-rules", operator, reads(gs), s.putApprovalRules)
	api.POST("/billing/run", operator, reads(gs), s.runBilling)
	api.GET("/billing/runs/:id", operator, reads(gs), s.getBillingRun)

	// Test clocks: a sandbox tenant's own time (testclocks.go).
	api.POST("/test-clocks", operator, reads(gs), s.createTestClock)
	api.GET("/test-clocks", tenantWide(gs), reads(gs, "pageSize", "pageToken"), s.listTestClocks)
	api.GET("/test-clocks/:id", tenantWide(gs), reads(gs), s.getTestClock)
	api.POST("/test-clocks/:id/advance", operator, reads(gs), s.advanceTestClock)
	api.DELETE("/test-clocks/:id", operator, reads(gs), s.deleteTestClock)

	// The event feed and webhook subscriptions. A subscription is reference
	// data, stamped with the business clock like the catalog; its deliveries
	// and their attempts record real HTTP traffic and keep the wall clock
	// (activities/webhooks.go), and so does a redelivery, queued among them.
	api.GET("/events", operator, reads(gs, "type", "after", "pageSize"), s.listEvents)
	api.POST("/webhooks", operator, reads(gs), s.createWebhook)
	api.GET("/webhooks", operator, reads(gs), s.listWebhooks)
	api.DELETE("/webhooks/:id", operator, reads(gs), s.deleteWebhook)
	api.POST("/webhooks/:id/rotate-secret", operator, reads(gs), s.rotateWebhookSecret)
	api.GET("/webhooks/:id/deliveries", operator, reads(gs, "pageSize", "pageToken"), s.listWebhookDeliveries)
	api.POST("/webhooks/:id/deliveries/:deliveryId/redeliver", operator, reads(gs), s.redeliverWebhook)

	// Crossgrade (seed: crossgrade-change-contract.txt).
	cust.POST("/:customerId/contracts/:contractRef/crossgrade", requireRole(auth.RoleSubmitter, cg), reads(cg, "preview"), s.crossgrade)

	// Self-service (seed: selfservice-contract-management.txt).
	self.POST("/contract", requireRole(auth.RoleSubmitter, ss), reads(ss, "preview"), s.changeContract)

	// DDCMS (seed: ddcms-cancel-restart-schedule.txt): a client's own
	// systems do through it what its staff do in the DDCMS UI. The payment
	// schedule is the business's: a customer key is refused (staffOnly).
	ddcms.POST("/cancelSchedule", s.cancelSchedule)
	ddcms.POST("/restartSchedule", reads(dd, "comment"), s.restartSchedule)

	// Contract/Termination v5 (seed: contract-termination-v5.txt).
	slash(http.MethodGet, "", s.listTerminations)
	slash(http.MethodGet, "/Paged", v5Pages, s.pagedTerminations(false))
	slash(http.MethodGet, "/Paged/Detail", v5Pages, s.pagedTerminations(true))
	slash(http.MethodGet, "/:id", s.getTermination(false))
	slash(http.MethodGet, "/:id/Detail", s.getTermination(true))
	slash(http.MethodPost, "", v5Writer, s.createTermination)
	slash(http.MethodPut, "/:id", v5Writer, s.putTermination)
	slash(http.MethodPatch, "/:id", v5Writer, s.patchTermination)
	slash(http.MethodDelete, "/:id", v5Writer, s.deleteTermination)
}

// Where the seeds' surfaces' routes live.
const (
	crossgradePrefix  = "/api/customers"
	selfServicePrefix = "/api/selfService"
	ddcmsPrefix       = "/api/v3/client"
	v5Prefix          = "/api/v5/Contract/Termination"
)

// The paths whose 404 and 405 answer in a seed's format: each seed's whole
// API version, not only the prefix its routes share, so a client of the v5
// API that gets an entity wrong (/api/v5/Contract/Nope) still reads a v5
// error, as does a DDCMS client below /api/v3.
const (
	ddcmsRoot = "/api/v3"
	v5Root    = "/api/v5"
)

// surfaceAt is the surface whose API path is below, for an answer no
// route gives (no such endpoint, or not that method): a client of a seed's
// surface reads its own format, however it got the path or method wrong.
func surfaceAt(path string) surface {
	switch {
	case underPrefix(path, crossgradePrefix):
		return crossgradeSurface{}
	case underPrefix(path, selfServicePrefix):
		return selfServiceSurface{}
	case underPrefix(path, ddcmsRoot):
		return ddcmsSurface{}
	case underPrefix(path, v5Root):
		return v5Surface{}
	}
	return general{}
}

// notFound answers a path no route has: in its surface's format, but for
// the bare "/docs" and "/ui", which browsers are sent on to the pages at
// "/docs/" and "/ui/" (gin's trailing-slash redirect, which did this, is
// off). A path below those two is a file of an HTML page; one that does not
// exist is the file server's plain 404.
func notFound(c *gin.Context) {
	switch p := c.Request.URL.Path; {
	case (p == "/docs" || p+"/" == ui.Prefix) && c.Request.Method == http.MethodGet: // HEAD too (headAsGet)
		c.Redirect(http.StatusMovedPermanently, p+"/")
	default:
		reject(c, surfaceAt(p), http.StatusNotFound, "no such endpoint")
	}
}

// underPrefix reports whether path is prefix or a path below it.
func underPrefix(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '/')
}
