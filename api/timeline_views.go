package api

import (
	"github.com/contractd/contractd/internal/domain"
)

// termsView is a contract's terms: now, or once a phase of its timeline applies.
type termsView struct {
	Status          string               `json:"status"`
	Version         int64                `json:"version"`
	BillingPeriod   domain.BillingPeriod `json:"billingPeriod"`
	Lines           []domain.Line        `json:"lines"`
	RecurringAmount int64                `json:"recurringAmount"`
}

func termsOf(ct domain.Contract) termsView {
	return termsView{Status: ct.Status, Version: ct.Version, BillingPeriod: ct.BillingPeriod, Lines: nonNil(ct.Lines), RecurringAmount: ct.RecurringAmount}
}

// phaseView is one pending amendment on a contract's timeline.
type phaseView struct {
	EffectiveDate domain.Date   `json:"effectiveDate"`
	AmendmentID   string        `json:"amendmentId"`
	Action        domain.Action `json:"action"`
	// Status is SCHEDULED, PENDING (due, being applied) or REVIEW.
	Status       string `json:"status"`
	QuoteVersion int64  `json:"quoteVersion"`
	// InProjection is false for one in REVIEW: the phases after it are
	// shown without it, as they are priced until it is approved.
	InProjection bool `json:"inProjection"`
	// After is the contract once this phase applies.
	After termsView `json:"after"`
}

// timelineView is a contract's terms now and its pending phases in the
// order they will apply.
type timelineView struct {
	ContractID     string      `json:"contractId"`
	ContractNumber string      `json:"contractNumber"`
	Current        termsView   `json:"current"`
	Phases         []phaseView `json:"phases"`
}

func timelineViewOf(ct domain.Contract, pending []domain.Pending) timelineView {
	out := timelineView{ContractID: ct.ID, ContractNumber: ct.Number, Current: termsOf(ct), Phases: make([]phaseView, len(pending))}
	for i, p := range pending {
		out.Phases[i] = phaseView{
			EffectiveDate: p.Quote.EffectiveDate, AmendmentID: p.ID, Action: p.Quote.Action, Status: p.Status,
			QuoteVersion: p.QuoteVersion, InProjection: p.InProjection(), After: termsOf(phaseTerms(ct, pending[:i], p)),
		}
	}
	return out
}

// projectedContract is a contract as it will be on a date (GET
// /api/contracts/{id}?asOf=): its own fields, projected, and the date.
type projectedContract struct {
	domain.Contract
	AsOf domain.Date `json:"asOf"`
	// CancelledBy names the scheduled cancellation that has ended the
	// contract by then.
	CancelledBy string `json:"cancelledBy,omitempty"`
}
