package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/rules"
	"github.com/contractd/contractd/internal/store"
)

// OpenAmendmentInput is a self-service request the API validated.
type OpenAmendmentInput struct {
	AmendmentID    string
	WorkflowID     string
	TenantID       string
	ContractID     string // uuid
	ActorID        string
	Source         string
	TraceID        string
	IdempotencyKey string
	RequestHash    string
	Change         domain.Change
	Request        json.RawMessage
	// ApplyImmediately lets an immediate change that is neither held for
	// review nor paid up front be applied as it is recorded. Workflows
	// started before this existed apply in a step of their own.
	ApplyImmediately bool
}

// OpenAmendmentResult is the recorded amendment, the terms of the contract
// it holds (without its segments and schedule history, which grow with every
// change and would be stored in the workflow's history), how long until its
// effective date starts (0 for an immediate change), and for a held
// amendment, how long a decision may take.
type OpenAmendmentResult struct {
	Amendment    domain.Amendment
	Contract     domain.Contract
	WaitFor      time.Duration
	ReviewExpiry time.Duration
}

// requestedApproval is recorded as the matched rule when the submitter asked
// for a review themselves.
var requestedApproval = domain.MatchedRule{ID: "requireApproval", Name: "Approval requested by the submitter"}

// OpenAmendment prices the change against the locked contract, evaluates the
// tenant's approval rules and records the amendment: REVIEW when a rule (or
// the request) holds it, else PENDING when it applies today (or already
// APPLIED, see ApplyImmediately) or SCHEDULED for a future date.
func (a *Activities) OpenAmendment(ctx context.Context, in OpenAmendmentInput) (OpenAmendmentResult, error) {
	ruleList, err := a.Store.ApprovalRules(ctx, in.TenantID)
	if err != nil {
		return OpenAmendmentResult{}, err
	}
	ruleSet, err := rules.CompileStored(ruleList)
	if err != nil {
		return OpenAmendmentResult{}, fmt.Errorf("stored approval rules: %w", err)
	}
	facts, err := a.crossgradeFacts(ctx, in)
	if err != nil {
		return OpenAmendmentResult{}, err
	}
	now := a.now()
	today := domain.DateOf(now)
	am, ct, err := a.Store.OpenAmendment(ctx, store.NewAmendment{
		ID: in.AmendmentID, TenantID: in.TenantID, ContractID: in.ContractID, Action: in.Change.Action,
		Request: in.Request, RequestHash: in.RequestHash, IdempotencyKey: in.IdempotencyKey, WorkflowID: in.WorkflowID,
		ActorID: in.ActorID, Source: in.Source,
	}, now, func(ct domain.Contract, cat domain.Catalog, charges []domain.TerminationCharge) (store.Plan, error) {
		// The store refused a second open amendment under the lock already.
		q, err := domain.PlanChange(domain.Preflight{Catalog: &cat, Contract: ct, Change: in.Change, Today: today, Charges: charges, Facts: facts})
		if err != nil {
			return store.Plan{}, err
		}
		plan := store.Plan{Quote: q, Status: domain.StatusScheduled}
		if q.Immediate(today) {
			plan.Status = domain.StatusPending
			plan.ApplyNow = in.ApplyImmediately && (q.Crossgrade == nil || q.Crossgrade.PaymentAmount <= 0)
		}
		var matched *domain.MatchedRule
		var expiry time.Duration
		if in.Change.RequireApproval {
			matched, expiry = &requestedApproval, rules.DefaultExpiry
		} else if r, exp, ok := ruleSet.Match(ruleFacts(in, ct, q)); ok {
			matched, expiry = &domain.MatchedRule{ID: r.ID, Name: r.Name}, exp
		}
		if matched != nil {
			expires := now.Add(expiry)
			plan.Status, plan.MatchedRule, plan.ReviewExpiresAt, plan.ApplyNow = domain.StatusReview, matched, &expires, false
		}
		return plan, nil
	})
	if err != nil {
		return OpenAmendmentResult{}, businessError(err)
	}
	activity.GetLogger(ctx).Info("amendment opened", append(correlation.From(ctx).LogAttrs(),
		"amendmentId", am.ID, "contractId", ct.ID, "status", am.Status)...)
	if am.Status == domain.StatusApplied {
		logApplied(ctx, am.ID, ct.Version)
	}
	// Both waits derive from what is stored: when this runs again after a
	// crash, the amendment it opened the first time is returned as it was.
	res := OpenAmendmentResult{Amendment: am, Contract: ct}
	if wait := am.EffectiveDate.Time().Sub(now); wait > 0 {
		res.WaitFor = wait
	}
	if am.Status == domain.StatusReview && am.ReviewExpiresAt != nil {
		res.ReviewExpiry = max(am.ReviewExpiresAt.Sub(now), 0)
	}
	return res, nil
}

// crossgradeFacts reads, for a crossgrade, what its validation needs beyond
// the contract and the catalog.
func (a *Activities) crossgradeFacts(ctx context.Context, in OpenAmendmentInput) (domain.CrossgradeFacts, error) {
	if in.Change.Crossgrade == nil {
		return domain.CrossgradeFacts{}, nil
	}
	return a.Store.CrossgradeFacts(ctx, in.TenantID, in.ContractID, *in.Change.Crossgrade)
}

func ruleFacts(in OpenAmendmentInput, ct domain.Contract, q domain.Quote) rules.Facts {
	var percent float64
	if q.RecurringBefore != 0 {
		percent = float64(q.RecurringDelta) * 100 / float64(q.RecurringBefore)
	}
	return rules.Facts{
		Action: string(in.Change.Action), Source: in.Source, Actor: in.ActorID,
		Contract: rules.ContractFacts{
			Status: ct.Status, Currency: ct.Currency, RecurringAmount: ct.RecurringAmount,
			MonthsRemaining: int64(domain.MonthsRemaining(q.EffectiveDate, ct.ExpirationDate)),
		},
		Quote: rules.QuoteFacts{RecurringDelta: q.RecurringDelta, ProrationAmount: q.ProrationTotal, PercentChange: percent, Discount: discountPercent(q)},
	}
}

// ApplyAmendmentInput names the amendment to apply and who triggered it.
type ApplyAmendmentInput struct {
	TenantID    string
	AmendmentID string
	ActorID     string
	Source      string
}

// ApplyAmendment writes the change; applying twice changes nothing the second time.
func (a *Activities) ApplyAmendment(ctx context.Context, in ApplyAmendmentInput) (store.Applied, error) {
	out, err := a.Store.ApplyAmendment(ctx, in.TenantID, in.AmendmentID, in.ActorID, in.Source, a.now())
	if err != nil {
		return out, businessError(err)
	}
	logApplied(ctx, in.AmendmentID, out.Contract.Version)
	return out, nil
}

func logApplied(ctx context.Context, amendmentID string, contractVersion int64) {
	activity.GetLogger(ctx).Info("amendment applied", append(correlation.From(ctx).LogAttrs(),
		"amendmentId", amendmentID, "contractVersion", contractVersion)...)
}

// EventInput adds an event such as APPROVED or ESCALATED to an amendment's
// history. Capture is set on the event of an up-front payment's capture.
type EventInput struct {
	TenantID    string
	AmendmentID string
	Event       string
	ActorID     string
	Source      string
	Note        *string
	Capture     *CaptureRef
}

// CaptureRef is a captured up-front payment.
type CaptureRef struct {
	PaymentID string
	Amount    int64
}

// RecordAmendmentEvent records the event once, however often it runs. A
// capture first settles the amendment's invoice with it, once too.
func (a *Activities) RecordAmendmentEvent(ctx context.Context, in EventInput) error {
	now := a.now()
	if c := in.Capture; c != nil {
		if err := a.Store.SettleUpFront(ctx, in.TenantID, in.AmendmentID, c.PaymentID, c.Amount, now); err != nil {
			return fmt.Errorf("settle the invoice of amendment %s: %w", in.AmendmentID, err)
		}
	}
	return a.Store.RecordEvent(ctx, in.TenantID, in.AmendmentID, domain.AmendmentEvent{
		Status: in.Event, ActorID: in.ActorID, Source: in.Source, Note: in.Note, At: now,
	})
}

// TransitionInput moves an amendment between statuses.
type TransitionInput struct {
	TenantID    string
	AmendmentID string
	From        []string
	To          string
	ActorID     string
	Source      string
	Note        *string
}

// TransitionAmendment records a status change such as WITHDRAWN or FAILED.
func (a *Activities) TransitionAmendment(ctx context.Context, in TransitionInput) (domain.Amendment, error) {
	am, err := a.Store.Transition(ctx, in.TenantID, in.AmendmentID, in.From, domain.AmendmentEvent{
		Status: in.To, ActorID: in.ActorID, Source: in.Source, Note: in.Note, At: a.now(),
	})
	return am, businessError(err)
}

// now is the business clock at database precision, so what is stored and
// what is returned agree.
func (a *Activities) now() time.Time {
	return a.Now().UTC().Truncate(time.Microsecond)
}

func discountPercent(q domain.Quote) int64 {
	if q.Crossgrade == nil || q.Crossgrade.Discount == nil {
		return 0
	}
	return q.Crossgrade.Discount.PercentOff
}
