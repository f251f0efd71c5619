package flow

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
)

// InvoiceRefs are invoices to collect as a billing run's pages, collection
// batches and dunning starts carry them. They are most of what a run's
// history holds, and the history's size is what makes a run continue as new,
// so their JSON names the tenant and test clock once and each invoice as a
// [contract, invoice, due date] triple, about half the size of a list of
// InvoiceRef objects. Invoices of more than one tenant or clock, which no run
// writes, are written as that list. Both forms are read: a workflow worker of
// a release before them writes the list. A worker of such a release cannot
// read the compact form: an activity input it gets fails to decode and is
// retried until a worker of this release takes it, and a page's result is
// compact only when the run asked (InvoicePageInput.CompactRefs).
type InvoiceRefs []InvoiceRef

// compactInvoiceRefs is InvoiceRefs' JSON when they share a tenant and clock.
type compactInvoiceRefs struct {
	TenantID    string      `json:"tenant"`
	TestClockID string      `json:"clock,omitempty"`
	Invoices    [][3]string `json:"invoices"`
}

// MarshalJSON writes the compact form when the invoices share a tenant and
// a test clock, and a list of InvoiceRef objects otherwise.
func (r InvoiceRefs) MarshalJSON() ([]byte, error) {
	if len(r) == 0 || !r.shareTenantAndClock() {
		return json.Marshal([]InvoiceRef(r))
	}
	c := compactInvoiceRefs{TenantID: r[0].TenantID, TestClockID: r[0].TestClockID, Invoices: make([][3]string, len(r))}
	for i, inv := range r {
		c.Invoices[i] = [3]string{inv.ContractID, inv.InvoiceID, inv.DueDate.String()}
	}
	return json.Marshal(c)
}

func (r InvoiceRefs) shareTenantAndClock() bool {
	for _, inv := range r[1:] {
		if inv.TenantID != r[0].TenantID || inv.TestClockID != r[0].TestClockID {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads either form.
func (r *InvoiceRefs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return json.Unmarshal(b, (*[]InvoiceRef)(r))
	}
	var c compactInvoiceRefs
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	refs := make(InvoiceRefs, len(c.Invoices))
	for i, t := range c.Invoices {
		var due domain.Date // "" is an unset date, as Date writes it
		if t[2] != "" {
			var err error
			if due, err = domain.ParseDate(t[2]); err != nil {
				return fmt.Errorf("invoice %s: due date: %w", t[1], err)
			}
		}
		refs[i] = InvoiceRef{TenantID: c.TenantID, ContractID: t[0], InvoiceID: t[1], DueDate: due, TestClockID: c.TestClockID}
	}
	*r = refs
	return nil
}
