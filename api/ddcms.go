package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
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

// forbiddenReasonHeader tells the two 403s apart: "protected" is the seed's
// (the contract cannot be used in the API, whoever asks), "role" is a key
// without the submitter role (another key may succeed).
const forbiddenReasonHeader = "X-Forbidden-Reason"

// ddcmsRoleErrors renders a refusal of the caller's key, marking a 403 as
// the key's, not the contract's.
func ddcmsRoleErrors(c *gin.Context, status int, message string) {
	if status == http.StatusForbidden {
		c.Header(forbiddenReasonHeader, "role")
	}
	ddcmsErrors(c, status, message)
}

// guidRoute is the seed's {contractId:Guid} route constraint: a contract id
// that is not a GUID matches no route, so it is a 404 with the seed's text,
// before any key is looked at. The spellings .NET's Guid parsing and
// uuid.Parse share are accepted, in either case: 8-4-4-4-12 hex digits, the
// same in braces or parentheses, or 32 hex digits without hyphens.
func guidRoute(c *gin.Context) {
	id, ok := parseGUID(c.Param("contractId"))
	if !ok {
		ddcmsErrors(c, http.StatusNotFound, ddcmsNotFound)
		c.Abort()
		return
	}
	c.Set(contractGUIDKey, id)
	c.Next()
}

const contractGUIDKey = "contractGuid"

func parseGUID(s string) (string, bool) {
	if len(s) == 38 && (s[0] == '{' && s[37] == '}' || s[0] == '(' && s[37] == ')') {
		s = s[1:37]
	}
	if len(s) != 36 && len(s) != 32 {
		return "", false
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// registerScheduleRoutes adds the payment schedule routes: the DDCMS surface,
// billing runs, invoice listings and account balances. Cancel and restart are for submitters: a
// client's own systems do through them what its staff do in the DDCMS UI.
// Billing runs are for operators.
func (s *server) registerScheduleRoutes(r *gin.Engine) {
	d := r.Group("/api/v3/client/:clientPrefix/contract/:contractId",
		s.recoverPanics(ddcmsErrors), guidRoute, s.authenticate(ddcmsErrors), requireRole(auth.RoleSubmitter, ddcmsRoleErrors))
	d.POST("/cancelSchedule", s.cancelSchedule)
	d.POST("/restartSchedule", s.restartSchedule)

	g := r.Group("/api", s.authenticate(generalErrors))
	g.POST("/billing/run", requireRole(auth.RoleOperator, generalErrors), s.runBilling)
	g.GET("/contracts/:id/invoices", s.listInvoices)
	g.GET("/accounts/:accountNumber/balance", s.getAccountBalance)
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
	// The request's own context, not the pooled gin.Context: the SDK may
	// still hold it in a goroutine after the handler returns.
	ctx := c.Request.Context()
	contractID, changeID := c.GetString(contractGUIDKey), c.GetString(requestIDKey)
	// The activity finds the contract in the tenant under its lock; this
	// also keeps a customer key to its own account's contracts. (The
	// account a contract belongs to never changes.)
	if _, err := s.Store.ContractTerms(ctx, scope(c), contractID); err != nil {
		s.ddcmsFail(c, err)
		return
	}
	err := s.Temporal.ChangeSchedule(ctx, flow.ScheduleChangeInput{
		ChangeID: changeID, TenantID: p.TenantID, ContractID: contractID, Action: action, Comment: comment,
		ActorID: p.ActorID, Source: string(p.Source),
	})
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
		c.Header(forbiddenReasonHeader, "protected")
		ddcmsErrors(c, http.StatusForbidden, ddcmsProtected)
	default:
		ddcmsErrors(c, http.StatusInternalServerError, ddcmsUnexpected)
	}
}
