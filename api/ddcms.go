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

// ddcmsStaffOnly refuses a customer key both routes (staffOnly): the payment
// schedule is the business's, and a Terminated schedule collects nothing, so
// a customer that cancelled it would use the contract for free. A customer
// that wants to stop paying cancels the contract, which prices its
// early-termination fee.
const ddcmsStaffOnly = "a customer key cannot cancel or restart a contract's payment schedule, which is the business's; " +
	"to stop paying, cancel the contract"

// ddcmsSurface answers in plain text, as the seed's every answer is.
type ddcmsSurface struct{}

// render answers a refusal by middleware with its own text, marking a 403
// as the key's (it lacks the role, or is a customer's: staffOnly), not the
// contract's. A handler's error is answered as the seed lists them: a bad
// request with its specific message, everything else with the seed's fixed
// texts.
func (ddcmsSurface) render(c *gin.Context, f failure) {
	if f.Err == nil {
		if f.Status == http.StatusForbidden {
			reason := "role"
			if principal(c).Source == auth.SourceCustomer {
				reason = "customer"
			}
			c.Header(forbiddenReasonHeader, reason)
		}
		c.String(f.Status, f.Message)
		return
	}
	switch f.Kind {
	case domain.KindInvalid:
		c.String(http.StatusBadRequest, f.Message)
	case domain.KindNotFound:
		c.String(http.StatusNotFound, ddcmsNotFound)
	case domain.KindForbidden:
		c.Header(forbiddenReasonHeader, "protected")
		c.String(http.StatusForbidden, ddcmsProtected)
	default:
		c.String(http.StatusInternalServerError, ddcmsUnexpected)
	}
}

// forbiddenReasonHeader tells the 403s apart: "protected" is the seed's
// (the contract cannot be used in the API, whoever asks), "role" is a key
// without the submitter role and "customer" a customer key (a staff key
// with the role may succeed).
const forbiddenReasonHeader = "X-Forbidden-Reason"

// guidRoute is the seed's {contractId:Guid} route constraint: a contract id
// that is not a GUID matches no route, so it is a 404 with the seed's text,
// before any key is looked at. The spellings .NET's Guid parsing and
// uuid.Parse share are accepted, in either case: 8-4-4-4-12 hex digits, the
// same in braces or parentheses, or 32 hex digits without hyphens.
func guidRoute(c *gin.Context) {
	id, ok := parseGUID(c.Param("contractId"))
	if !ok {
		reject(c, ddcmsSurface{}, http.StatusNotFound, ddcmsNotFound)
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

func (s *server) cancelSchedule(c *gin.Context) {
	s.changeSchedule(c, domain.CancelSchedule, nil, ddcmsCancelled)
}

// restartSchedule takes an optional comment, recorded in the schedule's history.
func (s *server) restartSchedule(c *gin.Context) {
	// Its length is bounded with every query parameter's (queryLimits).
	var comment *string
	if text := queryParam(c, "comment"); text != "" {
		comment = &text
	}
	s.changeSchedule(c, domain.RestartSchedule, comment, ddcmsRestarted)
}

// changeSchedule runs the change as a workflow and answers once it is made,
// or 202 with how to follow it when its workflow has not answered within
// AmendmentWait (see respondSchedulePending). The change's id makes its
// activity idempotent: the request's own id, or, with an Idempotency-Key,
// one derived from the key and what the request asks, so that a repeat
// joins the first's workflow and answers its outcome, rather than making a
// second change that the first's would refuse ("already Terminated"). The
// same key on another request (another contract, action or comment) is
// another change, not that one's answer.
func (s *server) changeSchedule(c *gin.Context, action domain.ScheduleAction, comment *string, success string) {
	p := principal(c)
	// Another client's prefix is answered like a missing contract, revealing nothing.
	if !strings.EqualFold(c.Param("clientPrefix"), p.TenantPrefix) {
		reject(c, ddcmsSurface{}, http.StatusNotFound, ddcmsNotFound)
		return
	}
	// The request's own context, not the pooled gin.Context: the SDK may
	// still hold it in a goroutine after the handler returns.
	ctx := c.Request.Context()
	contractID, changeID := c.GetString(contractGUIDKey), c.GetString(requestIDKey)
	key := idempotencyKey(c)
	if key != "" {
		// A comment holds no NUL (queryLimits), so what two different
		// requests ask never reads alike.
		asked := "schedule-change\x00" + contractID + "\x00" + string(action)
		if comment != nil {
			asked += "\x00" + *comment
		}
		changeID = idempotentID(p.TenantID, asked, key)
	}
	// The activity finds the contract in the tenant under its lock; this
	// answers a missing one at once. (A customer key never gets here:
	// staffOnly refused it before anything was looked up.)
	if _, err := s.Store.ContractTerms(ctx, scope(c), contractID); err != nil {
		s.failAs(c, ddcmsSurface{}, err)
		return
	}
	done, err := s.Temporal.ChangeSchedule(ctx, flow.ScheduleChangeInput{
		ChangeID: changeID, TenantID: p.TenantID, ContractID: contractID, Action: action, Comment: comment,
		ActorID: p.ActorID, Source: string(p.Source),
	}, s.AmendmentWait)
	if err != nil {
		s.failAs(c, ddcmsSurface{}, err)
		return
	}
	if !done {
		s.Logger.Warn("schedule change answered as pending: its workflow did not answer in time", "changeId", changeID,
			"wait", s.AmendmentWait, "requestId", c.GetString(requestIDKey))
		respondSchedulePending(c, contractID, key != "")
		return
	}
	c.String(http.StatusOK, success)
}

// respondSchedulePending answers 202 for a change whose workflow goes on, in
// plain text like every DDCMS answer (the seed's table has no row for it):
// the change is accepted and not made yet, and the contract, whose
// paymentSchedule shows it once made, is in Location. With an
// Idempotency-Key a repeat joins the change and answers its outcome; without
// one a repeat would be a second change, refused once the first is made.
func respondSchedulePending(c *gin.Context, contractID string, keyed bool) {
	contract := "/api/contracts/" + contractID
	c.Header("Location", contract)
	msg := "The contract schedule change is still being made: do not send the request again, which would be a second change; " +
		"read the contract's paymentSchedule at " + contract + " for its outcome."
	if keyed {
		msg = "The contract schedule change is still being made: send the same request with the same Idempotency-Key for its outcome, " +
			"or read the contract's paymentSchedule at " + contract + "."
		c.Header("Retry-After", "1")
	}
	c.String(http.StatusAccepted, msg)
}
