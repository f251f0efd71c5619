// Package termination is the write engine of the Contract/Termination v5
// surface: the writable fields of a termination and of its period charges,
// the PATCH envelope and its structural rules, and the unit of work that
// applies a request's changes through one store transaction and records
// every change for the answer. The HTTP handler only decodes, calls and
// encodes; the request shapes carry the seed's JSON names because the
// handler decodes them strictly into these types.
package termination

import "github.com/contractd/contractd/internal/domain"

// Fields are a termination's writable fields; an update changes only those present.
type Fields struct {
	PenaltyServiceID *int64  `json:"penaltyServiceId"`
	Name             *string `json:"name"`
}

// RequireAll refuses fields that a create or a PUT must carry and lack.
func (f Fields) RequireAll() error {
	var p domain.Problems
	if f.PenaltyServiceID == nil {
		p.Addf("penaltyServiceId is required")
	}
	if f.Name == nil {
		p.Addf("name is required")
	}
	return p.Err()
}

func (f Fields) applyTo(t domain.Termination) domain.Termination {
	if f.PenaltyServiceID != nil {
		t.PenaltyServiceID = *f.PenaltyServiceID
	}
	if f.Name != nil {
		t.Name = *f.Name
	}
	return t
}

// ChargeFields are a period charge's writable fields; an update changes only
// those present.
type ChargeFields struct {
	StartMonth *int    `json:"startMonth"`
	EndMonth   *int    `json:"endMonth"`
	Amount     *int64  `json:"amount"`
	Currency   *string `json:"currency"`
}

func (f ChargeFields) requireAll() error {
	var p domain.Problems
	if f.StartMonth == nil {
		p.Addf("startMonth is required")
	}
	if f.EndMonth == nil {
		p.Addf("endMonth is required")
	}
	if f.Amount == nil {
		p.Addf("amount is required")
	}
	if f.Currency == nil {
		p.Addf("currency is required")
	}
	return p.Err()
}

func (f ChargeFields) applyTo(c domain.TerminationCharge) domain.TerminationCharge {
	if f.StartMonth != nil {
		c.StartMonth = *f.StartMonth
	}
	if f.EndMonth != nil {
		c.EndMonth = *f.EndMonth
	}
	if f.Amount != nil {
		c.Amount = *f.Amount
	}
	if f.Currency != nil {
		c.Currency = *f.Currency
	}
	return c
}

// WithServiceName names a termination's penalty service from the catalog:
// the name is not stored, so a renamed service shows its current name.
func WithServiceName(cat *domain.Catalog, t domain.Termination) domain.Termination {
	ps, _ := cat.PenaltyService(t.PenaltyServiceID)
	t.PenaltyServiceName = ps.Name
	return t
}
