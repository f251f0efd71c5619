package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// The contract-actions surface (seed: contract-actions.txt).

const actionCreateContractWithPlan = "create-contract-with-plan"

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
	if err != nil {
		s.fail(c, err)
		return
	}
	if !scope(c).Covers(req.AccountNumber) {
		s.fail(c, domain.Errorf(domain.KindForbidden, "accountNumber", "a customer key creates contracts only for its own account"))
		return
	}
	p := principal(c)
	// Validate before starting anything, so a bad request leaves no rows and
	// no workflow. The contracts' dates are checked against their business
	// time: their test clock's, when they are to live on one.
	today := domain.DateOf(s.Now())
	if req.TestClockID != "" {
		clock, err := s.liveTestClock(c, p.TenantID, req.TestClockID)
		if err != nil {
			s.fail(c, err)
			return
		}
		today = domain.DateOf(clock.FrozenTime)
		req.TestClockID = clock.ID // as stored, however the request spelt it
	}
	if err := s.checkRequestedContracts(c, p.TenantID, requested, today); err != nil {
		s.fail(c, err)
		return
	}

	hash := requestHash(body)
	key := idempotencyKey(c)
	actionID := uuid.NewString()
	if key != "" {
		earlier, err := s.Store.ContractActionByIdempotencyKey(c.Request.Context(), p.TenantID, key)
		switch {
		case err == nil && earlier.RequestHash == hash:
			c.JSON(http.StatusOK, toContractActionResponse(flow.ContractAction(earlier), requested))
			return
		case err == nil:
			s.fail(c, errIdempotencyMismatch)
			return
		case !errors.Is(err, store.ErrNotFound):
			s.fail(c, err)
			return
		}
		actionID = idempotentID(p.TenantID, "contract-action", key)
	}

	in := flow.CreateContractsInput{
		ActionID: actionID, TenantID: p.TenantID, ActorID: p.ActorID, Source: string(p.Source),
		TraceID: correlation.From(c.Request.Context()).TraceID, IdempotencyKey: key, RequestHash: hash,
		AccountNumber: req.AccountNumber, ActionType: actionCreateContractWithPlan, Contracts: requested,
		TestClockID: req.TestClockID,
	}
	action, err := s.Temporal.CreateContracts(c.Request.Context(), in,
		fmt.Sprintf("create %d contract(s) for account %s", len(requested), req.AccountNumber))
	if err != nil {
		s.fail(c, err)
		return
	}
	if action.RequestHash != hash {
		// A concurrent request with the same key but another body won the race.
		s.fail(c, errIdempotencyMismatch)
		return
	}
	c.JSON(http.StatusOK, toContractActionResponse(action, requested))
}

// checkRequestedContracts plans the requested contracts against the catalog
// and checks their dates, from today on, and the terminations they name. A termination
// deleted after this check is refused by the database (migration 0014).
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
	for _, r := range requested {
		if err := domain.CheckContractDates(r.NewContract, r.Field, today); err != nil {
			return err
		}
	}
	for i, plan := range plans {
		id := plan.ContractTerminationID
		if id == nil {
			continue
		}
		_, err := s.Store.Termination(ctx, tenantID, *id)
		if errors.Is(err, store.ErrNotFound) {
			return domain.Errorf(domain.KindInvalid, requested[i].Field+".contractTerminationId",
				"%s.contractTerminationId %d is not a contract termination of this tenant", requested[i].Field, *id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// toContractActionResponse answers for action a. requested is what the
// request asked for: a repeated request (same Idempotency-Key) has the same
// body, so the same items, as the first.
func toContractActionResponse(a flow.ContractAction, requested []domain.RequestedContract) contractActionResponse {
	resp := contractActionResponse{
		ContractActionNumber: a.Number, Number: a.Number, ActionType: a.ActionType,
		AccountID: a.AccountID, TraceID: a.TraceID, ID: a.ID, CreatedOn: a.CreatedOn, UpdatedOn: a.CreatedOn,
		CreatedBy: a.CreatedBy, UpdatedBy: a.CreatedBy, ContractSegmentIDs: []string{},
	}
	for _, ct := range a.Contracts {
		resp.Contracts = append(resp.Contracts, contractInfoOf(ct))
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
