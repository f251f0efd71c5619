package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/rules"
	"github.com/contractd/contractd/internal/store"
)

// Amendments opens, applies and records amendments, and tells the
// workflows of a contract's other amendments when their timeline changed.
type Amendments struct {
	database
	temporal *flow.Client
	rules    rules.Cache
}

// NewAmendments builds the amendment activities on s with the business clock
// now; t tells the workflows of re-priced amendments.
func NewAmendments(s *store.Store, now func() time.Time, t *flow.Client) *Amendments {
	return &Amendments{database: database{store: s, clock: now}, temporal: t}
}

// requestedApproval is recorded as the matched rule when the submitter asked
// for a review themselves.
var requestedApproval = domain.MatchedRule{ID: "requireApproval", Name: "Approval requested by the submitter"}

// OpenAmendment prices the change against the locked contract, evaluates the
// tenant's approval rules and records the amendment: REVIEW when a rule (or
// the request) holds it, else PENDING when it applies today (or already
// APPLIED, see ApplyImmediately) or SCHEDULED for a future date.
func (a *Amendments) OpenAmendment(ctx context.Context, in flow.OpenAmendmentInput) (flow.OpenAmendmentResult, error) {
	facts, err := a.crossgradeFacts(ctx, in)
	if err != nil {
		return flow.OpenAmendmentResult{}, err
	}
	wall := a.clock.now()
	opened, err := a.store.OpenAmendment(ctx, store.NewAmendment{
		ID: in.AmendmentID, TenantID: in.TenantID, ContractID: in.ContractID, Action: in.Change.Action,
		Request: in.Request, RequestHash: in.RequestHash, IdempotencyKey: in.IdempotencyKey, WorkflowID: in.WorkflowID,
		ActorID: in.ActorID, Source: in.Source, Change: in.Change,
	}, wall, func(b store.PlanBasis) (store.Plan, error) {
		ct := b.Contract
		now := ct.Now(wall) // a test clock's time, for a contract on one
		today := domain.DateOf(now)
		// A customer's change is held to the business's terms here too, under
		// the contract's lock: the timeline may have changed since the API
		// checked it.
		pf := domain.Preflight{Catalog: &b.Catalog, Contract: ct, Change: in.Change, Today: today, Charges: b.Charges, Facts: facts,
			Customer: in.Source == string(auth.SourceCustomer)}
		q, err := domain.PlanOnTimeline(pf, b.Timeline)
		if err != nil {
			return store.Plan{}, err
		}
		ruleSet, err := a.rules.CompileStored(in.TenantID, b.Rules)
		if err != nil {
			return store.Plan{}, fmt.Errorf("stored approval rules: %w", err)
		}
		plan := store.Plan{Quote: q, Status: domain.StatusScheduled}
		if q.Immediate(today) {
			plan.Status = domain.StatusPending
			plan.ApplyNow = in.ApplyImmediately && q.UpFrontPayment() == 0
		}
		var matched *domain.MatchedRule
		var expiry time.Duration
		if in.Change.RequireApproval {
			matched, expiry = &requestedApproval, rules.DefaultExpiry
		} else if r, exp, ok := ruleSet.Match(ruleFacts(in, ct, q, domain.TermsBefore(ct, b.Timeline, in.Change, q.EffectiveDate))); ok {
			matched, expiry = &domain.MatchedRule{ID: r.ID, Name: r.Name}, exp
		}
		if matched != nil {
			expires := now.Add(expiry)
			if end := q.EffectiveDate.Time(); in.Change.Action == domain.Renewal && expires.After(end) {
				// A held renewal is decided by the term's end, or the
				// contract expires then: its review ends there too.
				expires = end
			}
			plan.Status, plan.MatchedRule, plan.ReviewExpiresAt, plan.ApplyNow = domain.StatusReview, matched, &expires, false
		}
		return plan, nil
	})
	if err != nil {
		return flow.OpenAmendmentResult{}, businessError(err)
	}
	am, ct := opened.Amendment, opened.Contract
	activity.GetLogger(ctx).Info("amendment opened", append(correlation.From(ctx).LogAttrs(),
		"amendmentId", am.ID, "contractId", ct.ID, "status", am.Status)...)
	if am.Status == domain.StatusApplied {
		logApplied(ctx, am.ID, opened.ContractVersion)
	}
	// Both waits derive from what is stored: when this runs again after a
	// crash, the amendment it opened the first time is returned as it was.
	res := flow.OpenAmendmentResult{Amendment: am, Contract: flow.SummaryOf(ct, opened.ContractVersion), Rebased: opened.Rebased}
	now := ct.Now(wall)
	if ct.TestClockID != nil {
		res.TestClock = &flow.ClockReading{ID: *ct.TestClockID, Time: now}
	}
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
func (a *Amendments) crossgradeFacts(ctx context.Context, in flow.OpenAmendmentInput) (domain.CrossgradeFacts, error) {
	if in.Change.Crossgrade == nil {
		return domain.CrossgradeFacts{}, nil
	}
	return a.store.CrossgradeFacts(ctx, in.TenantID, in.ContractID, *in.Change.Crossgrade)
}

// ruleFacts are what the approval rules see of in's change, priced q, on
// contract ct; was are the renewal terms ct will have just before it.
func ruleFacts(in flow.OpenAmendmentInput, ct domain.Contract, q domain.Quote, was domain.RenewalTerms) rules.Facts {
	uplift := was.UpliftBasisPoints
	if q.Terms != nil {
		uplift = q.Terms.UpliftBasisPoints
	}
	return rules.Facts{
		Action: string(in.Change.Action), Source: in.Source, Actor: in.ActorID,
		Contract: rules.ContractFacts{
			Status: ct.Status, Currency: ct.Currency, RecurringAmount: ct.RecurringAmount,
			MonthsRemaining: int64(domain.MonthsRemaining(q.EffectiveDate, ct.ExpirationDate)),
		},
		Quote: rules.QuoteFacts{RecurringDelta: q.RecurringDelta, ProrationAmount: q.ProrationTotal, PercentChange: percentChange(q),
			Discount: discountPercent(q), CancelsContract: q.CancelsContract,
			UpliftBasisPoints: int64(uplift), UpliftDelta: int64(uplift - was.UpliftBasisPoints)},
	}
}

// ApplyAmendment writes the change; applying twice changes nothing the second time.
func (a *Amendments) ApplyAmendment(ctx context.Context, in flow.ApplyAmendmentInput) (flow.Applied, error) {
	applied, err := a.store.ApplyAmendment(ctx, in.TenantID, in.AmendmentID, in.ActorID, in.Source, in.Authorised, a.clock.now())
	out := flow.Applied{Amendment: applied.Amendment, Contract: flow.SummaryOf(applied.Contract, applied.ContractVersion), Rebased: applied.Rebased}
	if errors.Is(err, store.ErrNotYourTurn) {
		return out, temporal.NewApplicationError(err.Error(), flow.NotYourTurn)
	}
	if changed := (*store.PaymentChangedError)(nil); errors.As(err, &changed) {
		return out, temporal.NewApplicationError(err.Error(), flow.PaymentChanged, changed.Due)
	}
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

// RecordAmendmentEvent records the event once, however often it runs. A
// capture first settles the amendment's invoice with it, once too.
func (a *Amendments) RecordAmendmentEvent(ctx context.Context, in flow.EventInput) error {
	now := a.clock.now()
	if c := in.Capture; c != nil {
		if err := a.store.SettleUpFront(ctx, in.TenantID, in.AmendmentID, c.PaymentID, c.Amount, now); err != nil {
			return fmt.Errorf("settle the invoice of amendment %s: %w", in.AmendmentID, err)
		}
	}
	return a.store.RecordEvent(ctx, in.TenantID, in.AmendmentID, domain.AmendmentEvent{
		Status: in.Event, ActorID: in.ActorID, Source: in.Source, Note: in.Note, At: now,
	})
}

// TransitionAmendment records a status change such as WITHDRAWN or FAILED.
func (a *Amendments) TransitionAmendment(ctx context.Context, in flow.TransitionInput) (flow.Transitioned, error) {
	am, rebased, err := a.store.Transition(ctx, in.TenantID, in.AmendmentID, in.From, domain.AmendmentEvent{
		Status: in.To, ActorID: in.ActorID, Source: in.Source, Note: in.Note, At: a.clock.now(),
	})
	return flow.Transitioned{Amendment: am, Rebased: rebased}, businessError(err)
}

// ApproveAmendment accepts an amendment held for review onto its contract's
// timeline, priced again there (see store.Approve).
func (a *Amendments) ApproveAmendment(ctx context.Context, in flow.ApproveInput) (flow.Transitioned, error) {
	am, rebased, err := a.store.Approve(ctx, in.TenantID, in.AmendmentID, domain.AmendmentEvent{
		Status: flow.EventApproved, ActorID: in.ActorID, Source: in.Source, Note: in.Comment, At: a.clock.now(),
	}, in.QuoteVersion)
	return flow.Transitioned{Amendment: am, Rebased: rebased}, businessError(err)
}

// SyncAmendment reads an amendment again for its workflow, after its
// contract's timeline re-priced or failed it.
func (a *Amendments) SyncAmendment(ctx context.Context, in flow.AmendmentRef) (domain.Amendment, error) {
	am, err := a.store.SyncAmendment(ctx, in.TenantID, in.AmendmentID)
	return am, businessError(err)
}

// NotifyTimeline tells the workflow of every amendment of the contract
// that the timeline re-priced or failed and that has not read it yet (see
// store.TellRebased).
func (a *Amendments) NotifyTimeline(ctx context.Context, in flow.TimelineInput) error {
	return a.store.TellRebased(ctx, in.TenantID, in.ContractID, a.temporal.TellTimelineChanged)
}

// percentChange is the quote's change of recurring amount in percent. A
// rise from nothing is an unbounded one, +Inf (facts go to CEL in process,
// never through JSON, and CEL's double compares infinity as any number):
// counted as 0, a free contract turned into one of any price passed every
// rule on percentChange while a rise from 1 to 2 was held. A fall to
// nothing is -100, as for any other base.
func percentChange(q domain.Quote) float64 {
	if q.RecurringBefore == 0 {
		if q.RecurringDelta > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return float64(q.RecurringDelta) * 100 / float64(q.RecurringBefore)
}

func discountPercent(q domain.Quote) int64 {
	if q.Crossgrade == nil || q.Crossgrade.Discount == nil {
		return 0
	}
	return q.Crossgrade.Discount.PercentOff
}
