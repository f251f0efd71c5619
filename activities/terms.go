package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Terms start the workflows that carry out contracts' term ends, open
// renewals and end terms.
type Terms struct {
	database
	temporal *flow.Client
}

// NewTerms builds the term activities on s with the business clock now; t
// starts term and renewal workflows.
func NewTerms(s *store.Store, now func() time.Time, t *flow.Client) *Terms {
	return &Terms{database: database{store: s, clock: now}, temporal: t}
}

// termsPageSize bounds the term workflows one activity starts.
const termsPageSize = 100

// WatchTerms starts the workflow of each term of a page whose notice date
// has come, and records it started. A workflow started before (the record
// was lost to a crash) is found by its id and not started again.
func (t *Terms) WatchTerms(ctx context.Context, in flow.TermsSweepInput) (flow.TermsPage, error) {
	now := t.clock.now()
	if in.TestClockID != "" {
		var err error
		if now, err = t.store.ClockTime(ctx, in.TestClockID); err != nil {
			return flow.TermsPage{}, err
		}
	}
	asOf := in.AsOf
	if asOf.IsZero() {
		asOf = domain.DateOf(now) // a scheduled sweep: today
	}
	watch := func() ([]store.TermWatch, bool, error) {
		switch {
		case len(in.ContractIDs) > 0:
			return t.store.ContractTermsToWatch(ctx, asOf, in.TenantID, in.ContractIDs, in.AfterRef, termsPageSize)
		case in.TestClockID != "":
			return t.store.ClockTermsToWatch(ctx, asOf, in.TestClockID, in.AfterRef, termsPageSize)
		}
		return t.store.TermsToWatch(ctx, asOf, in.AfterRef, termsPageSize)
	}
	due, more, err := watch()
	if err != nil {
		return flow.TermsPage{}, err
	}
	out := flow.TermsPage{More: more, LastRef: in.AfterRef}
	for _, w := range due {
		term := flow.TermInput{TenantID: w.TenantID, ContractID: w.ContractID, End: w.End, NoticeDays: w.NoticeDays, FoundAt: now}
		if w.TestClockID != nil {
			term.TestClockID = *w.TestClockID
			// The clock's advance waits for the workflow about to start.
			if err := t.store.HoldClock(ctx, term.TestClockID, flow.ContractTermWorkflowID(w.TenantID, w.ContractID, w.End)); err != nil {
				return out, err
			}
		}
		started, err := t.temporal.StartContractTerm(ctx, term)
		if err != nil {
			return out, err
		}
		if err := t.store.MarkTermWatched(ctx, w.TenantID, w.ContractID, w.End); err != nil {
			return out, err
		}
		if started {
			out.Started++
		}
		out.LastRef = w.Ref
	}
	return out, nil
}

// renewalAnswerWait bounds the wait for a renewal's answer; an answer still
// pending fails the attempt, and the retry joins the same amendment.
const renewalAnswerWait = time.Minute

// OpenRenewal opens the renewal of the term, dated its end, through an
// amendment workflow like any change (approval rules may hold it), unless
// there is none to open (see store.RenewalToOpen).
func (t *Terms) OpenRenewal(ctx context.Context, in flow.TermInput) (flow.RenewalOpened, error) {
	id, reason, err := t.store.RenewalToOpen(ctx, in.TenantID, in.ContractID, in.End)
	if err != nil || reason != "" {
		return flow.RenewalOpened{Reason: reason}, err
	}
	change := domain.Change{Action: domain.Renewal, ContractID: in.ContractID, EffectiveDate: in.End}
	request, err := json.Marshal(change)
	if err != nil {
		return flow.RenewalOpened{}, fmt.Errorf("encode renewal: %w", err)
	}
	hash := sha256.Sum256(request)
	out, err := t.temporal.StartAmendment(ctx, flow.OpenAmendmentInput{
		AmendmentID: id, WorkflowID: flow.AmendmentWorkflowID(id), TenantID: in.TenantID, ContractID: in.ContractID,
		ActorID: domain.SystemActorID, Source: domain.SystemSource, RequestHash: hex.EncodeToString(hash[:]),
		Change: change, Request: request,
	}, fmt.Sprintf("RENEWAL of contract %s at the end of its term on %s", in.ContractID, in.End), renewalAnswerWait)
	if err != nil {
		return flow.RenewalOpened{}, fmt.Errorf("open the renewal of contract %s: %w", in.ContractID, err)
	}
	if out.Amendment == nil {
		// Refused: the renewal does not hold (its prices are beyond the
		// tenant's limits, say). The term ends as if it did not renew.
		return flow.RenewalOpened{Reason: out.ErrorMessage, Refused: true}, nil
	}
	return flow.RenewalOpened{AmendmentID: id, Status: out.Amendment.Status}, nil
}

// EndTerm carries out the term's end (see store.EndTerm).
func (t *Terms) EndTerm(ctx context.Context, in flow.TermInput) (flow.TermEnded, error) {
	ended, err := t.store.EndTerm(ctx, in.TenantID, in.ContractID, in.End, in.RenewalRefused, t.clock.now())
	if errors.Is(err, store.ErrNotFound) {
		return flow.TermEnded{}, temporal.NewNonRetryableApplicationError(err.Error(), string(domain.KindNotFound), err)
	}
	return flow.TermEnded{Outcome: ended.Outcome, Rebased: ended.Rebased}, businessError(err)
}
