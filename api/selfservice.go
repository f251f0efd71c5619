package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// The self-service surface (seed: selfservice-contract-management.txt).

// Response statuses of the self-service surface.
const (
	selfServiceSuccess = "SUCCESS"
	selfServiceFailed  = "FAILED"
	selfServiceReview  = "REVIEW"
	// selfServicePending answers a change accepted whose workflow has not
	// answered within AmendmentWait: the seed's statuses have no word for
	// it, and each of theirs would mislead a client (FAILED invites sending
	// the change again; REVIEW says a person must decide).
	selfServicePending = "PENDING"
	quotePreview       = "PREVIEW"
)

// selfServiceResponse is the seed's ContractOperationResponse.
type selfServiceResponse struct {
	Action       echoedAction     `json:"action"`
	Status       string           `json:"status"`
	ErrorMessage string           `json:"errorMessage,omitempty"`
	Quote        *domain.Quote    `json:"quote,omitempty"`
	Contract     *contractDetails `json:"contract,omitempty"`
	Invoice      any              `json:"invoice,omitempty"`
}

// selfServiceSurface renders failures in the seed's format, echoing the
// action: the handler's, or for a refusal by middleware the one the body
// names. A handler's failure shows the contract when it got that far.
type selfServiceSurface struct {
	action   domain.Action
	contract *contractDetails
}

func (sf selfServiceSurface) render(c *gin.Context, f failure) {
	if f.Err == nil {
		c.JSON(f.Status, selfServiceResponse{Action: echo(actionInBody(c, f.Status)), Status: selfServiceFailed, ErrorMessage: f.Message})
		return
	}
	if be := (*bodyError)(nil); errors.As(f.Err, &be) && be.outOfRange {
		f.Status = http.StatusUnprocessableEntity // the seed's status for a value it cannot take
	}
	msg := f.Message
	if len(f.Problems) > 0 {
		msg = fmt.Sprintf("%s: %v", msg, f.Problems)
	}
	c.JSON(f.Status, selfServiceResponse{Action: echo(sf.action), Status: selfServiceFailed, ErrorMessage: msg, Contract: sf.contract})
}

func (s *server) changeContract(c *gin.Context) {
	var ch domain.Change
	body, err := readJSON(c, &ch)
	if err != nil {
		s.failAs(c, selfServiceSurface{action: requestedAction(body)}, err)
		return
	}
	if err := requirePayload(body); err != nil {
		s.failAs(c, selfServiceSurface{action: ch.Action}, err)
		return
	}
	if err := ch.Validate(); err != nil {
		s.failAs(c, selfServiceSurface{action: ch.Action}, err)
		return
	}
	hash := requestHash(body)
	if earlier, err := s.repeatedRequest(c, hash); err != nil || earlier != nil {
		if err != nil {
			s.failAs(c, selfServiceSurface{action: ch.Action}, err)
			return
		}
		s.respondAmendment(c, ch.Action, *earlier)
		return
	}
	p := principal(c)
	var asked *domain.TermsAsked
	if p.Source == auth.SourceCustomer && ch.Action == domain.RenewalTermsChange {
		// A customer key decides the mode alone: the numbers stay the
		// contract's on the change's date, as re-basing finds them, and
		// the ones it gave are only checked against them.
		ch.ModeOnly = true
		if asked, err = termsAsked(body); err != nil {
			s.failAs(c, selfServiceSurface{action: ch.Action}, err)
			return
		}
	}
	basis, err := s.Store.ContractChangeBasis(c.Request.Context(), scope(c), ch.ContractID)
	if err != nil {
		s.failAs(c, selfServiceSurface{action: ch.Action}, notFoundAs(err, "contract %q does not exist", ch.ContractID))
		return
	}
	ct := basis.Contract
	// Price it here first: refusals answer at once, without a workflow, and a
	// preview is exactly this quote. The workflow prices it again under the
	// contract's row lock, which is what counts.
	charges, err := s.Store.ContractTerminationCharges(c.Request.Context(), p.TenantID, ct)
	if err != nil {
		s.failAs(c, selfServiceSurface{action: ch.Action}, err)
		return
	}
	preview := previewing(c)
	quote, err := domain.PlanOnTimeline(domain.Preflight{
		Catalog: &basis.Catalog, Contract: ct, Change: ch, Today: domain.DateOf(ct.Now(s.Now())), Charges: charges,
		Customer: p.Source == auth.SourceCustomer, Asked: asked,
	}, basis.Timeline)
	respond := func(out flow.Outcome) { s.respondAmendment(c, ch.Action, out) }
	if err != nil {
		s.failUnlessRaced(c, selfServiceSurface{action: ch.Action, contract: s.contractShown(c, ct.ID)}, hash, err, respond)
		return
	}
	if preview {
		quote.Status = quotePreview
		c.JSON(http.StatusOK, selfServiceResponse{Action: echo(ch.Action), Status: selfServiceSuccess, Quote: &quote,
			Contract: s.contractShown(c, ct.ID), Invoice: quote.InvoicePreview})
		return
	}

	out, err := s.submitAmendment(c, ct, ch, body, hash, quote)
	if err != nil {
		s.failUnlessRaced(c, selfServiceSurface{action: ch.Action, contract: s.contractShown(c, ct.ID)}, hash, err, respond)
		return
	}
	respond(out)
}

// contractShown is the contract as a self-service answer shows it, with its
// segments and schedule history. A change is priced on the contract's terms
// alone, so the whole contract is read only for an answer that shows it; an
// answer leaves it out if it cannot be read.
func (s *server) contractShown(c *gin.Context, id string) *contractDetails {
	ct, err := s.Store.Contract(c.Request.Context(), scope(c), id)
	if err != nil {
		s.Logger.Warn("read contract for an answer", "contractId", id, "err", err, "requestId", c.GetString(requestIDKey))
		return nil
	}
	return contractDetailsOf(shownTo(c, ct))
}

// previewing reports whether the request asks only for a quote (preview=true;
// requestProblem holds the flag to true or false).
func previewing(c *gin.Context) bool { return queryParam(c, "preview") == "true" }

// repeatedRequest answers a request repeated with the same Idempotency-Key
// (hash identifies the request) with what the first one got, before the change is checked again: the
// contract may have changed since, by that very amendment. It returns nil
// when there is no earlier amendment to answer with.
func (s *server) repeatedRequest(c *gin.Context, hash string) (*flow.Outcome, error) {
	key := idempotencyKey(c)
	if key == "" || previewing(c) {
		// A preview makes nothing, so it repeats nothing: it is priced as
		// asked, whatever change its key made before.
		return nil, nil
	}
	ctx := c.Request.Context()
	earlier, earlierHash, err := s.Store.AmendmentByIdempotencyKey(ctx, scope(c), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case earlierHash != hash:
		return nil, domain.ErrIdempotencyKeyReused
	case earlier.Status != domain.StatusPending:
		return &flow.Outcome{Amendment: &earlier}, nil
	}
	// Still being worked on (the first answer was lost to a timeout or a
	// crash): wait for the workflow's answer as the first request did.
	out, err := amendmentOutcome(s.Temporal.AmendmentOutcome(ctx, earlier.WorkflowID, earlierHash, principal(c).ActorID, s.AmendmentWait))
	if errors.Is(err, flow.ErrAnswerPending) {
		return &flow.Outcome{Amendment: &earlier}, nil
	}
	return &out, err
}

// submitAmendment hands a validated change to its amendment workflow with
// Update-with-Start and returns the workflow's answer, or the amendment as
// it stands when the workflow has not answered within AmendmentWait
// (quote is the change's price as the request saw it). With an
// Idempotency-Key the amendment's id (and so its workflow's) derives from the
// key, so concurrent repeats meet in one workflow, and the workflow's
// validator refuses the key with another body.
func (s *server) submitAmendment(c *gin.Context, ct domain.Contract, ch domain.Change, body []byte, hash string, quote domain.Quote) (flow.Outcome, error) {
	ctx := c.Request.Context()
	p := principal(c)
	key := idempotencyKey(c)
	amendmentID := uuid.NewString()
	if key != "" {
		amendmentID = idempotentID(p.TenantID, "amendment", key)
	}

	in := flow.OpenAmendmentInput{
		AmendmentID: amendmentID, WorkflowID: flow.AmendmentWorkflowID(amendmentID), TenantID: p.TenantID, ContractID: ct.ID, ActorID: p.ActorID,
		Source: string(p.Source), TraceID: correlation.From(c.Request.Context()).TraceID, IdempotencyKey: key, RequestHash: hash,
		Change: ch, Request: body,
	}
	// The summary is what an operator reads first in the Temporal UI's workflow list.
	out, err := amendmentOutcome(s.Temporal.StartAmendment(ctx, in, fmt.Sprintf("%s on %s (%s)", ch.Action, ct.Number, ct.AccountNumber), s.AmendmentWait))
	if errors.Is(err, flow.ErrAnswerPending) {
		s.Logger.Warn("amendment answered as pending: its workflow did not answer in time", "amendmentId", amendmentID,
			"wait", s.AmendmentWait, "requestId", c.GetString(requestIDKey))
		return s.pendingAmendment(c, in, ct, quote), nil
	}
	return out, err
}

// pendingAmendment is an accepted amendment whose workflow has not answered
// yet: as recorded, or, before its workflow has recorded it, as the request
// priced it.
func (s *server) pendingAmendment(c *gin.Context, in flow.OpenAmendmentInput, ct domain.Contract, quote domain.Quote) flow.Outcome {
	if am, err := s.Store.Amendment(c.Request.Context(), scope(c), in.AmendmentID); err == nil {
		return flow.Outcome{Amendment: &am}
	}
	quote.ID, quote.Status = in.AmendmentID, domain.StatusPending
	return flow.Outcome{Amendment: &domain.Amendment{
		ID: in.AmendmentID, ContractID: ct.ID, ContractNumber: ct.Number, Action: in.Change.Action,
		Status: domain.StatusPending, EffectiveDate: quote.EffectiveDate, Quote: quote,
		Source: in.Source, SubmittedBy: in.ActorID, WorkflowID: in.WorkflowID,
	}}
}

// followPending points the client at an amendment still being made, which
// it should follow rather than send again.
func followPending(c *gin.Context, am *domain.Amendment) bool {
	if am.Status != domain.StatusPending {
		return false
	}
	c.Header("Location", "/api/amendments/"+am.ID)
	c.Header("Retry-After", "1")
	return true
}

// amendmentOutcome is an amendment workflow's answer to an update; a
// refusal becomes the domain error it stands for.
func amendmentOutcome(out flow.Outcome, err error) (flow.Outcome, error) {
	if err != nil {
		return out, err
	}
	if out.ErrorKind != "" && (out.Amendment == nil || out.Amendment.Status == domain.StatusFailed) {
		return out, &domain.Error{Kind: out.ErrorKind, Fault: out.ErrorFault, Message: out.ErrorMessage}
	}
	return out, nil
}

// respondAmendment answers with the amendment's current state and the
// contract as it is now: 200 SUCCESS when applied or scheduled, 202 REVIEW
// when held for approval. The change is made by then, so a contract that
// cannot be read (Postgres gone a moment after the workflow answered) is left
// out rather than failing the answer: a client told 503 would make it again.
func (s *server) respondAmendment(c *gin.Context, action domain.Action, out flow.Outcome) {
	am := out.Amendment
	quote := am.Quote
	resp := selfServiceResponse{Action: echo(action), Status: selfServiceSuccess, Quote: &quote, Contract: s.contractShown(c, am.ContractID)}
	if am.Invoice != nil {
		resp.Invoice = am.Invoice
	}
	switch {
	case followPending(c, am):
		resp.Status = selfServicePending
		c.JSON(http.StatusAccepted, resp)
	case am.Status == domain.StatusReview:
		resp.Status = selfServiceReview
		c.JSON(http.StatusAccepted, resp)
	case am.Status == domain.StatusApplied, am.Status == domain.StatusScheduled:
		c.JSON(http.StatusOK, resp)
	default:
		resp.Status = selfServiceFailed
		resp.ErrorMessage = fmt.Sprintf("amendment %s is %s", am.ID, am.Status)
		c.JSON(http.StatusConflict, resp)
	}
}

// termsAsked reads the numbers a terms change's body gave, nil where it
// left them out (decoded already, so it decodes).
func termsAsked(body []byte) (*domain.TermsAsked, error) {
	var req struct {
		Renewal *domain.TermsAsked `json:"renewal"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("read renewal terms: %w", err)
	}
	if req.Renewal == nil {
		return &domain.TermsAsked{}, nil
	}
	return req.Renewal, nil
}
