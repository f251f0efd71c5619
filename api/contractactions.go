package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// The contract-actions surface (seed: contract-actions.txt).

const actionCreateContractWithPlan = "create-contract-with-plan"

// maxActionContracts bounds the contracts one request creates, in all its
// actions. Its workflow's result carries every contract it created, and
// Temporal refuses a payload over 2 MiB (its default limit): past about
// 1,050 contracts the workflow could not complete and retried for ever, its
// contracts committed and its request unanswered. A contract on the demo's
// Team offering (two products) is 1.9 kB of it, so 500 make 0.96 MB, under
// half the limit. A contract on an offering with many products is larger
// (25.8 kB with 100 products named in 64 characters): the store refuses,
// whole, an action over its maxActionResponse, whatever its count.
const maxActionContracts = 500

// actionContracts bounds a request's items (api/limits.go), one contract each.
var actionContracts = noted(totalled(list(100), maxActionContracts),
	"one contract an item, all carried by the workflow's result, which Temporal caps (2 MiB by default; a contract on the demo's Team offering is 1.9 kB of it); "+
		"contracts over 1.5 MiB as created (on an offering with many products) are refused too, whatever their count")

type contractActionsRequest struct {
	AccountNumber string `json:"accountNumber"`
	// TestClockID puts the contracts on a test clock of a sandbox tenant:
	// they live on its time (README: "Rehearse with a test clock").
	TestClockID string                `json:"testClockId,omitempty"`
	Actions     []contractActionEntry `json:"actions"`
}

type contractActionEntry struct {
	Type                   string               `json:"type"`
	CreateContractWithPlan []domain.NewContract `json:"createContractWithPlan"`
}

// contractActionResponse is the seed's response, plus `contracts` listing
// every contract when a request creates more than one. Status is the
// contract's, in the seed's enum (active, expired, canceled), and
// contractActionItemRequest echoes the requested item contractInfo shows.
type contractActionResponse struct {
	ContractActionNumber      string             `json:"contractActionNumber"`
	Number                    string             `json:"number"`
	ActionType                string             `json:"actionType"`
	Status                    string             `json:"status"`
	AccountID                 string             `json:"accountId"`
	ContractID                string             `json:"contractId"`
	ContractSegmentIDs        []string           `json:"contractSegmentIds"`
	ContractActionItemRequest domain.NewContract `json:"contractActionItemRequest"`
	ContractInfo              contractInfo       `json:"contractInfo"`
	Contracts                 []contractInfo     `json:"contracts"`
	TraceID                   string             `json:"traceId,omitempty"`
	ID                        string             `json:"id"`
	CreatedOn                 time.Time          `json:"createdOn"`
	UpdatedOn                 time.Time          `json:"updatedOn"`
	CreatedBy                 string             `json:"createdBy"`
	UpdatedBy                 string             `json:"updatedBy"`
}

// validate checks the request's shape and flattens it into the contracts to create.
func (r contractActionsRequest) validate() ([]domain.RequestedContract, error) {
	if r.AccountNumber == "" {
		return nil, domain.Errorf(domain.KindInvalid, "accountNumber", "accountNumber is required")
	}
	if len(r.Actions) == 0 {
		return nil, domain.Errorf(domain.KindInvalid, "actions", "actions must list at least one action")
	}
	var out []domain.RequestedContract
	for i, a := range r.Actions {
		if a.Type != actionCreateContractWithPlan {
			return nil, domain.Errorf(domain.KindInvalid, fmt.Sprintf("actions[%d].type", i),
				"actions[%d].type %q is not supported (supported: %s)", i, a.Type, actionCreateContractWithPlan)
		}
		if len(a.CreateContractWithPlan) == 0 {
			return nil, domain.Errorf(domain.KindInvalid, fmt.Sprintf("actions[%d].createContractWithPlan", i),
				"actions[%d].createContractWithPlan must list at least one contract", i)
		}
		for j, nc := range a.CreateContractWithPlan {
			out = append(out, domain.RequestedContract{Field: fmt.Sprintf("actions[%d].createContractWithPlan[%d]", i, j), NewContract: nc})
		}
	}
	return out, nil
}

func (s *server) createContractAction(c *gin.Context) {
	var req contractActionsRequest
	body, err := readJSON(c, &req)
	if err != nil {
		s.fail(c, err)
		return
	}
	requested, err := req.validate()
	p := principal(c)
	if err == nil && p.Source == auth.SourceCustomer {
		err = renewalsAsked(body, requested)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !scope(c).Covers(req.AccountNumber) {
		s.fail(c, domain.Errorf(domain.KindForbidden, "accountNumber", "a customer key creates contracts only for its own account"))
		return
	}
	hash := requestHash(body)
	key := idempotencyKey(c)
	if s.repeatedAction(c, key, hash, requested) {
		return
	}
	// Validate before starting anything, so a bad request leaves no rows and
	// no workflow.
	today, err := s.contractsToday(c, &req)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.checkRequestedContracts(c, p.TenantID, requested, today); err != nil {
		s.fail(c, err)
		return
	}
	actionID := uuid.NewString()
	if key != "" {
		actionID = idempotentID(p.TenantID, "contract-action", key)
	}

	in := flow.CreateContractsInput{
		ActionID: actionID, TenantID: p.TenantID, ActorID: p.ActorID, Source: string(p.Source),
		TraceID: correlation.From(c.Request.Context()).TraceID, IdempotencyKey: key, RequestHash: hash,
		AccountNumber: req.AccountNumber, ActionType: actionCreateContractWithPlan, Contracts: requested,
		TestClockID: req.TestClockID,
	}
	action, done, err := s.Temporal.CreateContracts(c.Request.Context(), in,
		fmt.Sprintf("create %d contract(s) for account %s", len(requested), req.AccountNumber), s.AmendmentWait)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !done {
		s.Logger.Warn("contract action answered as pending: its workflow did not answer in time", "actionId", actionID,
			"wait", s.AmendmentWait, "requestId", c.GetString(requestIDKey))
		respondActionPending(c, in)
		return
	}
	if action.RequestHash != hash {
		// A concurrent request with the same key but another body won the race.
		s.fail(c, domain.ErrIdempotencyKeyReused)
		return
	}
	c.JSON(http.StatusOK, toContractActionResponse(c, action, requested))
}

// repeatedAction answers a request repeated with the same Idempotency-Key
// (key, in the caller's namespace; hash identifies the body) with what the
// first one got, and reports whether it answered. It looks before the
// request's contracts are checked: those checks depend on the day (their
// dates, the renewals they would catch up), a test clock's time and the
// tenant's default terms, all of which may have moved since the first was
// taken, and a client retrying a request that succeeded must get its
// contracts, not a refusal it would read as "not created" and send anew
// under another key.
func (s *server) repeatedAction(c *gin.Context, key, hash string, requested []domain.RequestedContract) bool {
	if key == "" {
		return false
	}
	earlier, err := s.Store.ContractActionByIdempotencyKey(c.Request.Context(), principal(c).TenantID, key)
	switch {
	case err == nil && earlier.RequestHash == hash:
		c.JSON(http.StatusOK, toContractActionResponse(c, flow.ContractAction(earlier), requested))
	case err == nil:
		s.fail(c, domain.ErrIdempotencyKeyReused)
	case !errors.Is(err, store.ErrNotFound):
		s.fail(c, err)
	default:
		return false
	}
	return true
}

// renewalsAsked records on a customer key's requested contracts the numbers
// each one's renewal gave (domain.RequestedContract.RenewalAsked), read from
// the request's body (decoded already, so it decodes), whose items validate
// flattened in this order: its renewal is mode-only, as its terms change
// is, the numbers left out the tenant's default renewal's, not the
// service's. A staff key's keep WithDefaults' (README, "Which numbers a
// request may give").
func renewalsAsked(body []byte, requested []domain.RequestedContract) error {
	var req struct {
		Actions []struct {
			CreateContractWithPlan []struct {
				Renewal *domain.TermsAsked `json:"renewal"`
			} `json:"createContractWithPlan"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("read renewal terms: %w", err)
	}
	i := 0
	for _, a := range req.Actions {
		for _, item := range a.CreateContractWithPlan {
			requested[i].RenewalAsked = item.Renewal
			i++
		}
	}
	return nil
}

// contractsToday is the business date a request's contracts are checked
// against: their test clock's, when they are to live on one (req then names
// the clock as stored, however the request spelt it), else the service's. A
// customer key puts no contract on a test clock, whether or not the clock
// exists: a clock is the tenant's rehearsal, which the key may not read
// either (tenantWide), and holds a limited number of contracts.
func (s *server) contractsToday(c *gin.Context, req *contractActionsRequest) (domain.Date, error) {
	if req.TestClockID == "" {
		return domain.DateOf(s.Now()), nil
	}
	p := principal(c)
	if p.Source == auth.SourceCustomer {
		return domain.Date{}, domain.Errorf(domain.KindForbidden, "testClockId",
			"a customer key acts only on its own account's contracts, and puts none on the tenant's test clocks")
	}
	clock, err := s.liveTestClock(c, p.TenantID, req.TestClockID)
	if err != nil {
		return domain.Date{}, err
	}
	req.TestClockID = clock.ID
	return domain.DateOf(clock.FrozenTime), nil
}

// newAccountNumberNote documents the check a contract action's
// accountNumber meets when it would create the account (store.CreateContracts,
// domain.CheckIdentifier); one naming an existing account is taken as it is,
// so an account created before the check stays reachable.
const newAccountNumberNote = "a new account's number is also not blank, without white space at either end, " +
	"and without control or format characters nor invisible separators (but for a zero width joiner or non-joiner " +
	"between two letters, marks or symbols); an existing account's number is taken as it is"

// contractActionPending is the status of an action whose workflow has not
// answered within AmendmentWait: the seed's statuses are a contract's
// (active, expired, canceled), and none of them says "still being made".
const contractActionPending = "pending"

// contractActionPendingResponse answers a request whose contracts are still
// being made, and may yet be: the client is told how to get them without
// making them twice.
type contractActionPendingResponse struct {
	ID         string `json:"id"`
	ActionType string `json:"actionType"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	TraceID    string `json:"traceId,omitempty"`
}

// respondActionPending answers 202 for action in, whose workflow goes on.
// With an Idempotency-Key a repeat joins it, and answers with its contracts
// once they exist; without one a repeat would create them again.
func respondActionPending(c *gin.Context, in flow.CreateContractsInput) {
	msg := "the contracts are still being created: send the same request with the same Idempotency-Key to get them once they exist"
	if in.IdempotencyKey == "" {
		msg = "the contracts are still being created and may yet be: do not send the request again, which would create them twice; " +
			"list the account's contracts (GET /api/contracts?accountNumber=…) to find them"
	} else {
		c.Header("Retry-After", "1")
	}
	c.JSON(http.StatusAccepted, contractActionPendingResponse{
		ID: in.ActionID, ActionType: in.ActionType, Status: contractActionPending, Message: msg, TraceID: in.TraceID,
	})
}

// checkRequestedContracts plans the requested contracts against the catalog
// and checks their dates, from today on, the renewals they would take at
// once to reach today (domain.CheckCatchUp), and the terminations they name.
// A termination deleted after this check is refused by the database
// (migration 0014).
func (s *server) checkRequestedContracts(c *gin.Context, tenantID string, requested []domain.RequestedContract, today domain.Date) error {
	ctx := c.Request.Context()
	cat, err := s.Store.Catalog(ctx, tenantID)
	if err != nil {
		return err
	}
	plans, err := domain.PlanContracts(&cat, requested)
	if err != nil {
		return err
	}
	if principal(c).Source == auth.SourceCustomer {
		if err := domain.CustomerContracts(&cat, requested); err != nil {
			return err
		}
	}
	for _, r := range requested {
		if err := domain.CheckContractDates(r.NewContract, r.Field, today); err != nil {
			return err
		}
	}
	if err := domain.CheckCatchUp(requested, plans, today); err != nil {
		return err
	}
	for i, plan := range plans {
		id := plan.ContractTerminationID
		if id == nil {
			continue
		}
		_, err := s.Store.Termination(ctx, tenantID, *id)
		if errors.Is(err, store.ErrNotFound) {
			return unknownTermination(requested[i], *id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unknownTermination refuses a contract whose termination id is none of the
// tenant's: the request's own, or, when it names none, its offering's
// default from the catalog (one stored before the catalog's were checked,
// see store.PutCatalog), which the refusal names rather than a field the
// request never sent.
func unknownTermination(r domain.RequestedContract, id int64) error {
	if r.ContractTerminationID == nil {
		return domain.Errorf(domain.KindInvalid, r.Field+".planId",
			"%s.planId: offering %q defaults to contractTerminationId %d in the catalog, which is not a contract termination of this tenant; "+
				"send a contractTerminationId, or have the catalog's offering name an existing one", r.Field, r.PlanID, id)
	}
	return domain.Errorf(domain.KindInvalid, r.Field+".contractTerminationId",
		"%s.contractTerminationId %d is not a contract termination of this tenant", r.Field, id)
}

// toContractActionResponse answers for action a. requested is what the
// request asked for: a repeated request (same Idempotency-Key) has the same
// body, so the same items, as the first. Its contracts are shown as the
// caller is shown them (shownTo).
func toContractActionResponse(c *gin.Context, a flow.ContractAction, requested []domain.RequestedContract) contractActionResponse {
	resp := contractActionResponse{
		ContractActionNumber: a.Number, Number: a.Number, ActionType: a.ActionType,
		AccountID: a.AccountID, TraceID: a.TraceID, ID: a.ID, CreatedOn: a.CreatedOn, UpdatedOn: a.CreatedOn,
		CreatedBy: a.CreatedBy, UpdatedBy: a.CreatedBy, ContractSegmentIDs: []string{},
	}
	for _, ct := range a.Contracts {
		resp.Contracts = append(resp.Contracts, contractInfoOf(shownTo(c, ct)))
		for _, seg := range ct.Segments {
			resp.ContractSegmentIDs = append(resp.ContractSegmentIDs, seg.ID)
		}
	}
	if len(resp.Contracts) > 0 {
		resp.ContractInfo = resp.Contracts[0]
		resp.ContractID = resp.ContractInfo.ID
		resp.Status = resp.ContractInfo.Status
	}
	if len(requested) > 0 {
		resp.ContractActionItemRequest = requested[0].NewContract
	}
	return resp
}
