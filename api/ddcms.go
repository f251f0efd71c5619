package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/workflows"
)

// The DDCMS surface (seed: ddcms-cancel-restart-schedule.txt): cancel and
// restart a contract's payment schedule. Every answer is plain text.

const (
	ddcmsCancelled  = "Contract schedule was cancelled successfully."
	ddcmsRestarted  = "Contract schedule was restarted successfully."
	ddcmsNotFound   = "Contract with the specified ID does not exist."
	ddcmsProtected  = "This contract cannot be used in API."
	ddcmsUnexpected = "An unexpected error occurred while processing the request."
)

func ddcmsErrors(c *gin.Context, status int, message string) {
	c.String(status, message)
}

// registerScheduleRoutes adds the payment schedule routes: the DDCMS surface,
// billing runs and invoice listings. Cancel and restart are for submitters: a
// client's own systems do through them what its staff do in the DDCMS UI.
// Billing runs are for operators.
func (s *server) registerScheduleRoutes(r *gin.Engine) {
	d := r.Group("/api/v3/client/:clientPrefix/contract/:contractId",
		s.recoverPanics(ddcmsErrors), s.authenticate(ddcmsErrors), requireRole(auth.RoleSubmitter, ddcmsErrors))
	d.POST("/cancelSchedule", s.cancelSchedule)
	d.POST("/restartSchedule", s.restartSchedule)

	g := r.Group("/api", s.authenticate(generalErrors))
	g.POST("/billing/run", requireRole(auth.RoleOperator, generalErrors), s.runBilling)
	g.GET("/contracts/:id/invoices", s.listInvoices)
}

func (s *server) cancelSchedule(c *gin.Context) {
	s.changeSchedule(c, domain.CancelSchedule, nil, ddcmsCancelled)
}

// restartSchedule takes an optional comment, recorded in the schedule's history.
func (s *server) restartSchedule(c *gin.Context) {
	// Its length is bounded with every query parameter's (queryLimits).
	var comment *string
	if text := c.Query("comment"); text != "" {
		comment = &text
	}
	s.changeSchedule(c, domain.RestartSchedule, comment, ddcmsRestarted)
}

// changeSchedule runs the change as a workflow and answers once it is made.
// The request id names the change, which makes its activity idempotent.
func (s *server) changeSchedule(c *gin.Context, action domain.ScheduleAction, comment *string, success string) {
	p := principal(c)
	// Another client's prefix is answered like a missing contract, revealing nothing.
	if !strings.EqualFold(c.Param("clientPrefix"), p.TenantPrefix) {
		ddcmsErrors(c, http.StatusNotFound, ddcmsNotFound)
		return
	}
	parsed, err := uuid.Parse(c.Param("contractId"))
	if err != nil {
		ddcmsErrors(c, http.StatusBadRequest, fmt.Sprintf("The contract ID %q is not a valid GUID.", c.Param("contractId")))
		return
	}
	// The request's own context, not the pooled gin.Context: the SDK may
	// still hold it in a goroutine after the handler returns.
	ctx := c.Request.Context()
	contractID, changeID := parsed.String(), c.GetString(requestIDKey)
	// The activity finds the contract in the tenant under its lock; this
	// also keeps a customer key to its own account's contracts. (The
	// account a contract belongs to never changes.)
	if _, err := s.Store.ContractTerms(ctx, scope(c), contractID); err != nil {
		s.ddcmsFail(c, err)
		return
	}
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.ScheduleChangeWorkflowID(p.TenantID, changeID),
		TaskQueue: s.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.TenantIDKey.ValueSet(p.TenantID), workflows.ContractIDKey.ValueSet(contractID)),
	}, workflows.ScheduleChangeWorkflow, activities.ScheduleChangeInput{
		ChangeID: changeID, TenantID: p.TenantID, ContractID: contractID, Action: action, Comment: comment,
		ActorID: p.ActorID, Source: string(p.Source),
	})
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		s.ddcmsFail(c, err)
		return
	}
	c.String(http.StatusOK, success)
}

// ddcmsFail renders an error as the seed lists them: a bad request with its
// specific message, everything else with the seed's fixed texts.
func (s *server) ddcmsFail(c *gin.Context, err error) {
	f := s.classify(c, err)
	switch f.Kind {
	case domain.KindInvalid:
		ddcmsErrors(c, http.StatusBadRequest, f.Message)
	case domain.KindNotFound:
		ddcmsErrors(c, http.StatusNotFound, ddcmsNotFound)
	case domain.KindForbidden:
		ddcmsErrors(c, http.StatusForbidden, ddcmsProtected)
	default:
		ddcmsErrors(c, http.StatusInternalServerError, ddcmsUnexpected)
	}
}
