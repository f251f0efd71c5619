package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// The crossgrade surface (seed: crossgrade-change-contract.txt).

// faultInfo is a row of the seed's fault table.
type faultInfo struct {
	Code    int
	Status  int
	Message string
}

var faults = map[domain.Fault]faultInfo{
	domain.FaultInvalidStateForCrossgrade: {90029, http.StatusBadRequest, "Contract cannot be crossgraded"},
	domain.FaultNoContractFound:           {90041, http.StatusNotFound, "Contract ID does not exist"},
	domain.FaultInvalidCrossgradePath:     {90018, http.StatusBadRequest, "Contract cannot be crossgraded to this item"},
	domain.FaultVCNCurrencyMismatch:       {90077, http.StatusBadRequest, "Viewing Card is not set for provided currency"},
	domain.FaultUnableToCrossgrade:        {90063, http.StatusBadRequest, "Crossgrade cannot be completed"},
	domain.FaultVCNRequired:               {90079, http.StatusBadRequest, "A Viewing Card is required for this purchase"},
	domain.FaultPaymentAuthorisation:      {90045, http.StatusBadRequest, "Payment attempt failed"},
	domain.FaultPaymentSystem:             {90050, http.StatusInternalServerError, "Payment collection cannot be attempted at this time"},
	domain.FaultInvalidVCN:                {90031, http.StatusBadRequest, "Viewing Card provided is Invalid"},
	domain.FaultSystemFailure:             {90061, http.StatusInternalServerError, "System Failure, Please try again later"},
	domain.FaultVCNInUse:                  {90078, http.StatusBadRequest, "This viewing card is already in use on another record"},
	domain.FaultInvalidDiscountCode:       {90022, http.StatusNotFound, "Discount does not exist"},
}

type faultBody struct {
	FaultCode int    `json:"faultCode"`
	Fault     string `json:"fault"`
	Message   string `json:"message"`
	Detail    string `json:"detail,omitempty"`
}

// callerFaults are the refusals the seed's table has no row for: of the
// caller's key, role, path, method, request size or pace. Their codes are this
// service's own, 90000 + the HTTP status, so a client handles them like any
// other fault.
var callerFaults = map[int]string{
	http.StatusUnauthorized:          "AuthenticationFault",
	http.StatusForbidden:             "AuthorisationFault",
	http.StatusNotFound:              "NoSuchEndpointFault",
	http.StatusMethodNotAllowed:      "MethodNotAllowedFault",
	http.StatusRequestTimeout:        "RequestTimeoutFault",
	http.StatusRequestEntityTooLarge: "RequestTooLargeFault",
	http.StatusTooManyRequests:       "RateLimitFault",
}

// crossgradeSurface renders failures as the seed's faults.
type crossgradeSurface struct{}

// render maps a failure to a fault. Middleware's refusals (authentication,
// roles, rate and size limits, panics) are caller faults, or the table's
// SystemFailureFault for a server-side one. A handler's error is the
// error's own fault, a missing contract, an open amendment (invalid state),
// any other refusal (unable to crossgrade), or a system failure.
func (crossgradeSurface) render(c *gin.Context, f failure) {
	// The fault table has no row for an oversized or late body; a 400 fault
	// would hide that only a smaller body, or one sent in time, can
	// succeed. A middleware's 400 (a header or query value beyond its input
	// limits) is the table's refusal.
	if (f.Err == nil && f.Status != http.StatusBadRequest) || f.Status == http.StatusRequestEntityTooLarge || f.Status == http.StatusRequestTimeout {
		renderCallerFault(c, f.Status, f.Message)
		return
	}
	fault := domain.FaultSystemFailure
	var de *domain.Error
	switch {
	case errors.As(f.Err, &de) && de.Fault != "":
		fault = de.Fault
	case f.Kind == domain.KindNotFound:
		fault = domain.FaultNoContractFound
	case f.Kind == domain.KindConflict:
		fault = domain.FaultInvalidStateForCrossgrade
	case f.Status < 500:
		fault = domain.FaultUnableToCrossgrade
	}
	info := faults[fault]
	detail := f.Message
	if f.Status >= 500 {
		detail = ""
	}
	c.JSON(info.Status, faultBody{FaultCode: info.Code, Fault: string(fault), Message: info.Message, Detail: detail})
}

func renderCallerFault(c *gin.Context, status int, message string) {
	if fault, ok := callerFaults[status]; ok {
		c.JSON(status, faultBody{FaultCode: 90000 + status, Fault: fault, Message: message})
		return
	}
	info := faults[domain.FaultSystemFailure]
	c.JSON(status, faultBody{FaultCode: info.Code, Fault: string(domain.FaultSystemFailure), Message: info.Message, Detail: message})
}

type crossgradeRequest struct {
	SalesItemCode        string        `json:"salesItemCode"`
	Referrer             string        `json:"referrer"`
	DiscountCode         *discountCode `json:"discountCode"`
	DowngradeImmediately bool          `json:"downgradeImmediately"`
	ViewingCardNumber    string        `json:"viewingCardNumber"`
}

type discountCode struct {
	Code string `json:"code"`
}

// crossgradeResponse is the amendment a crossgrade made, or for a preview
// (amendment null) the quote it would make, with the contract as it is now.
type crossgradeResponse struct {
	Amendment *domain.Amendment `json:"amendment"`
	Contract  *domain.Contract  `json:"contract"`
	Quote     *domain.Quote     `json:"quote,omitempty"`
}

func (s *server) crossgrade(c *gin.Context) {
	ctx := c.Request.Context()
	noContract := &domain.Error{Kind: domain.KindNotFound, Fault: domain.FaultNoContractFound, Message: "no such contract for this customer"}
	customer, err := uuid.Parse(c.Param("customerId"))
	if err != nil {
		s.failAs(c, crossgradeSurface{}, noContract)
		return
	}
	customerID, ref := customer.String(), c.Param("contractRef") // as stored, however the path spelt it
	if _, err := strconv.ParseInt(ref, 10, 64); err != nil {
		s.failAs(c, crossgradeSurface{}, noContract)
		return
	}
	ct, err := s.Store.Contract(ctx, scope(c), ref)
	if err != nil || ct.CustomerID != customerID {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			err = noContract
		}
		s.failAs(c, crossgradeSurface{}, err)
		return
	}

	var req crossgradeRequest
	body, err := readJSON(c, &req)
	if err != nil {
		s.failAs(c, crossgradeSurface{}, err)
		return
	}
	// The contract is in the path, not the body: the same key and body sent
	// for another contract is another request.
	hash := requestHash([]byte(ct.ID), body)
	if earlier, err := s.repeatedRequest(c, hash); err != nil || earlier != nil {
		if err != nil {
			s.failAs(c, crossgradeSurface{}, err)
			return
		}
		s.respondCrossgrade(c, ct.ID, *earlier)
		return
	}
	respond := func(out flow.Outcome) { s.respondCrossgrade(c, ct.ID, out) }
	ch, quote, err := s.planCrossgrade(c, ct, req)
	if err != nil {
		s.failUnlessRaced(c, crossgradeSurface{}, hash, err, respond)
		return
	}
	if previewing(c) {
		// The quote, priced on the contract as it will be on its date;
		// nothing is stored, no payment is authorised, no workflow starts.
		quote.Status = quotePreview
		shown := shownTo(c, ct)
		c.JSON(http.StatusOK, crossgradeResponse{Contract: &shown, Quote: &quote})
		return
	}
	out, err := s.submitAmendment(c, ct, ch, body, hash, quote)
	if err != nil {
		s.failUnlessRaced(c, crossgradeSurface{}, hash, err, respond)
		return
	}
	respond(out)
}

// planCrossgrade prices the crossgrade req asks for. It joins the
// contract's timeline: it is checked against the contract as it will be on
// its date.
func (s *server) planCrossgrade(c *gin.Context, ct domain.Contract, req crossgradeRequest) (domain.Change, domain.Quote, error) {
	ctx := c.Request.Context()
	tenantID := principal(c).TenantID
	cg := domain.CrossgradeChange{
		SalesItemCode: req.SalesItemCode, Referrer: req.Referrer, DowngradeImmediately: req.DowngradeImmediately,
		ViewingCardNumber: req.ViewingCardNumber,
	}
	if req.DiscountCode != nil {
		cg.DiscountCode = req.DiscountCode.Code
	}
	ch := domain.Change{Action: domain.Crossgrade, ContractID: ct.ID, Crossgrade: &cg}
	timeline, err := s.Store.PendingTimeline(ctx, ct.ID)
	if err != nil {
		return ch, domain.Quote{}, err
	}
	cat, err := s.Store.Catalog(ctx, tenantID)
	if err != nil {
		return ch, domain.Quote{}, err
	}
	facts, err := s.Store.CrossgradeFacts(ctx, tenantID, ct.ID, cg)
	if err != nil {
		return ch, domain.Quote{}, err
	}
	quote, err := domain.PlanOnTimeline(domain.Preflight{
		Catalog: &cat, Contract: ct, Change: ch, Today: domain.DateOf(ct.Now(s.Now())), Facts: facts,
	}, timeline)
	return ch, quote, err
}

// respondCrossgrade answers 200 with an applied crossgrade and 202 with one
// held for review or scheduled, showing the contract as it is now. The
// crossgrade is made by then: a contract that cannot be read is left out of
// the answer rather than failing it, as a client told 503 would repeat it.
func (s *server) respondCrossgrade(c *gin.Context, contractID string, out flow.Outcome) {
	if am := out.Amendment; slices.Contains(endedUnmade, am.Status) {
		// A retry of one that ended without being made: a fault, as the
		// first request was told, not 202 Accepted.
		s.failAs(c, crossgradeSurface{}, &domain.Error{Kind: domain.KindUnprocessable, Fault: domain.FaultUnableToCrossgrade,
			Message: fmt.Sprintf("crossgrade amendment %s is %s%s", am.ID, am.Status, lastNote(am))})
		return
	}
	resp := crossgradeResponse{Amendment: out.Amendment}
	if ct, err := s.Store.Contract(c.Request.Context(), scope(c), contractID); err == nil {
		ct = shownTo(c, ct)
		resp.Contract = &ct
	} else {
		s.Logger.Warn("read contract for an answer", "contractId", contractID, "err", err, "requestId", c.GetString(requestIDKey))
	}
	status := http.StatusOK
	if followPending(c, out.Amendment) || out.Amendment.Status != domain.StatusApplied {
		status = http.StatusAccepted
	}
	c.JSON(status, resp)
}

// endedUnmade are the statuses of an amendment that ended without its
// change being made.
var endedUnmade = []string{domain.StatusFailed, domain.StatusRejected, domain.StatusExpired, domain.StatusWithdrawn}

// lastNote is the note of the amendment's last step, as ": note", if any.
func lastNote(am *domain.Amendment) string {
	if n := len(am.History); n > 0 && am.History[n-1].Note != nil {
		return ": " + *am.History[n-1].Note
	}
	return ""
}
