package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
)

// shownTo is ct as the caller is shown it. A customer key is not shown the
// test clock staff put its contract on (testClockId): test clocks are the
// tenant's rehearsal tool for its staff and integrators, which a customer
// key may neither read (tenantWide) nor put a contract on, and their ids
// are the tenant's. Staff keys see it. Every answer that shows a contract
// (its reads, a projection, the self-service, crossgrade and
// contract-action answers) shows it through here.
func shownTo(c *gin.Context, ct domain.Contract) domain.Contract {
	if principal(c).Source == auth.SourceCustomer {
		ct.TestClockID = nil
	}
	return ct
}

// contractInfo is a contract as the contract-actions seed's contractInfo
// shows it. Self-service answers show their contract in the same shape (with
// its terms as extras, see contractDetails), so one client model reads both.
// currency is a list, as the seed writes it in requests and segments.
type contractInfo struct {
	AccountNumber    string           `json:"accountNumber"`
	ContractNumber   string           `json:"contractNumber"`
	Ref              int64            `json:"ref"`
	EffectiveDate    domain.Date      `json:"effectiveDate"`
	ExpirationDate   domain.Date      `json:"expirationDate"`
	Status           string           `json:"status"`
	Currency         []string         `json:"currency"`
	ContractSegments []domain.Segment `json:"contractSegments"`
	// ContractSegmentCount counts all the contract's segments, of which
	// ContractSegments are the newest (GET /api/contracts/{id}/segments
	// lists them all).
	ContractSegmentCount int64     `json:"contractSegmentCount"`
	ID                   string    `json:"id"`
	CreatedOn            time.Time `json:"createdOn"`
	UpdatedOn            time.Time `json:"updatedOn"`
	CreatedBy            string    `json:"createdBy"`
	UpdatedBy            string    `json:"updatedBy"`
	// TestClockID is the test clock the contract lives on, if any.
	TestClockID *string `json:"testClockId,omitempty"`
}

// contractInfoOf shows ct in the seed's contractInfo shape. A contract
// action's answer stored before segments were counted (its contracts as
// created, each with all its segments) is counted by its segments.
func contractInfoOf(ct domain.Contract) contractInfo {
	return contractInfo{
		AccountNumber: ct.AccountNumber, ContractNumber: ct.Number, Ref: ct.Ref, EffectiveDate: ct.EffectiveDate,
		ExpirationDate: ct.ExpirationDate, Status: ct.Status, Currency: []string{ct.Currency}, ContractSegments: nonNil(ct.Segments),
		ContractSegmentCount: max(ct.SegmentCount, int64(len(ct.Segments))), ID: ct.ID, CreatedOn: ct.CreatedOn, UpdatedOn: ct.UpdatedOn,
		CreatedBy: ct.CreatedBy, UpdatedBy: ct.UpdatedBy,
		TestClockID: ct.TestClockID,
	}
}

// contractDetails is contractInfo with the contract's current terms: what a
// self-service answer shows after a change.
type contractDetails struct {
	contractInfo
	CustomerID            string                  `json:"customerId"`
	BillingPeriod         domain.BillingPeriod    `json:"billingPeriod"`
	BillingCycleDay       int                     `json:"billingCycleDay"`
	PaymentMethod         string                  `json:"paymentMethod"`
	ViewingCardNumber     *string                 `json:"viewingCardNumber"`
	Protected             bool                    `json:"protected"`
	ContractTerminationID *int64                  `json:"contractTerminationId"`
	Discount              *domain.AppliedDiscount `json:"discount,omitempty"`
	Referrer              *string                 `json:"referrer,omitempty"`
	Lines                 []domain.Line           `json:"lines"`
	RecurringAmount       int64                   `json:"recurringAmount"`
	PaymentSchedule       domain.PaymentSchedule  `json:"paymentSchedule"`
	Version               int64                   `json:"version"`
	// Renewal are the contract's renewal terms; TermStart the first day of
	// its current term.
	Renewal   domain.RenewalTerms `json:"renewal"`
	TermStart domain.Date         `json:"termStart"`
}

func contractDetailsOf(ct domain.Contract) *contractDetails {
	return &contractDetails{
		contractInfo: contractInfoOf(ct), CustomerID: ct.CustomerID, BillingPeriod: ct.BillingPeriod,
		BillingCycleDay: ct.BillingCycleDay, PaymentMethod: ct.PaymentMethod, ViewingCardNumber: ct.ViewingCardNumber,
		Protected: ct.Protected, ContractTerminationID: ct.ContractTerminationID, Discount: ct.Discount,
		Referrer: ct.Referrer, Lines: ct.Lines, RecurringAmount: ct.RecurringAmount,
		PaymentSchedule: ct.PaymentSchedule, Version: ct.Version, Renewal: ct.Renewal, TermStart: ct.TermStart,
	}
}
