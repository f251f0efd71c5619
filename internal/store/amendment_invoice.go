package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// amendmentInvoice is the invoice an amendment raised, settled as far as
// is known before it is written: a charge takes the contract's credit
// notes first (notes, locked), and is written with what is left due, PAID
// when they cover it; a credit is written CREDIT, and its note is issued
// with it. Known before the write, the invoice is what the amendment's
// answer and events show, without reading it back.
type amendmentInvoice struct {
	domain.Invoice
	tenantID string
	// notes are the credit notes a charge takes, oldest first, locked.
	notes []CreditNote
	// paidUpFront is a crossgrade's invoice, which its capture settles: it
	// takes no credit.
	paidUpFront bool
}

// planAmendmentInvoice is the invoice an amendment's quote raises, if any
// (nil otherwise), settled as far as can be before it is written.
func planAmendmentInvoice(ctx context.Context, tx *sqlx.Tx, contractID string, am recordedAmendment, now time.Time) (*amendmentInvoice, error) {
	p := am.Quote.InvoicePreview
	if p == nil {
		return nil, nil
	}
	amendmentID := am.ID
	inv := &amendmentInvoice{
		Invoice: domain.Invoice{
			ID: uuid.NewString(), ContractID: contractID, AmendmentID: &amendmentID, Kind: "AMENDMENT",
			PeriodStart: p.Period.Start, PeriodEnd: p.Period.End, Currency: p.Currency, Lines: p.Lines,
			Total: p.Total, AmountDue: max(p.Total, 0), Status: domain.InvoiceOpen, CreatedOn: now,
		},
		tenantID: am.TenantID, paidUpFront: am.Quote.UpFrontPayment() > 0,
	}
	switch {
	case p.Total < 0:
		inv.Status = domain.InvoiceCredit
		return inv, nil
	case inv.paidUpFront:
		return inv, nil // its capture settles it
	case p.Total > 0:
		notes, err := lockCredit(ctx, tx, am.TenantID, contractID, p.Currency)
		if err != nil {
			return nil, err
		}
		inv.notes = notes
		for _, n := range notes {
			inv.AmountDue -= min(n.Remaining, inv.AmountDue)
		}
	}
	if inv.AmountDue == 0 {
		inv.Status = domain.InvoicePaid
	}
	return inv, nil
}

// invoice is the invoice as recorded; nil for none.
func (inv *amendmentInvoice) invoice() *domain.Invoice {
	if inv == nil {
		return nil
	}
	out := inv.Invoice
	return &out
}

// issuesCreditNote reports whether the invoice is a credit that issues a
// credit note: one paid up front issues none (a crossgrade's capture
// settles its invoice, whatever its sign).
func (inv *amendmentInvoice) issuesCreditNote() bool {
	return inv.Total < 0 && !inv.paidUpFront
}

// writesOnlyItself reports whether recording the invoice writes its row and
// nothing else: it issues no credit note and takes none.
func (inv *amendmentInvoice) writesOnlyItself() bool {
	return !inv.issuesCreditNote() && len(inv.notes) == 0
}

// paid is invoice.paid for a charge written PAID; none otherwise.
func (inv *amendmentInvoice) paid(now time.Time) []newEvent {
	if inv.paidUpFront || inv.Status != domain.InvoicePaid {
		return nil
	}
	return []newEvent{invoicePaid(inv.tenantID, inv.Invoice, now)}
}

// amendmentInvoiceInsert writes an invoice ($1..$13) as a common table
// expression, so that what goes with it (its credit note, the events
// announcing it) is written by the same statement.
const amendmentInvoiceInsert = `invoice AS (
	INSERT INTO invoices (id, tenant_id, contract_id, amendment_id, kind, period_start, period_end, currency, lines, total, amount_due, status, paid_up_front, created_at)
	VALUES ($1, $2, $3, $4, 'AMENDMENT', $5, $6, $7, $8, $9, $10, $11, $12, $13))`

var (
	// recordInvoice writes the invoice alone.
	recordInvoice = `WITH ` + amendmentInvoiceInsert + ` SELECT`
	// recordAnnouncedInvoice writes it and appends events ($14..$22).
	recordAnnouncedInvoice = `WITH ` + amendmentInvoiceInsert + `, ` + eventAppend(14) + ` SELECT`
	// recordCredit writes a credit and its credit note ($14, for the
	// credit's amount, $15).
	recordCredit = `WITH ` + amendmentInvoiceInsert + `,
	note AS (INSERT INTO credit_notes (id, tenant_id, contract_id, invoice_id, currency, amount, remaining, created_at)
		VALUES ($14, $2, $3, $1, $7, $15, $15, $13))
	SELECT`
)

// record writes the invoice and settles it: a credit's note is set against
// what the contract still owes (creditOutstanding), a charge takes the
// credit notes planned. It returns the settlement's events. events, given
// only for an invoice that writesOnlyItself, are appended by the invoice's
// statement, and its settlement's after them (after every other lock the
// transaction takes: see announcements); it returns none then. Nothing is
// written for a nil invoice.
func (inv *amendmentInvoice) record(ctx context.Context, tx *sqlx.Tx, now time.Time, events []newEvent) ([]newEvent, error) {
	if inv == nil {
		return nil, nil
	}
	linesJSON, err := json.Marshal(inv.Lines)
	if err != nil {
		return nil, fmt.Errorf("encode invoice lines: %w", err)
	}
	query, args := recordInvoice, []any{inv.ID, inv.tenantID, inv.ContractID, inv.AmendmentID, inv.PeriodStart, inv.PeriodEnd,
		inv.Currency, linesJSON, inv.Total, inv.AmountDue, inv.Status, inv.paidUpFront, now}
	var note CreditNote
	switch {
	case len(events) > 0:
		if !inv.writesOnlyItself() {
			return nil, fmt.Errorf("record invoice %s: its settlement writes more than its row, so its events cannot go with it", inv.ID)
		}
		appended, err := eventArgs(slices.Concat(events, inv.paid(now)))
		if err != nil {
			return nil, err
		}
		query, args = recordAnnouncedInvoice, append(args, appended...)
	case inv.issuesCreditNote():
		note = creditNoteFor(settledInvoice{ID: inv.ID, ContractID: inv.ContractID, Currency: inv.Currency, Total: inv.Total}, now)
		query, args = recordCredit, append(args, note.ID, note.Amount)
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return nil, fmt.Errorf("insert amendment invoice: %w", err)
	}
	if len(events) > 0 {
		return nil, nil
	}
	if inv.issuesCreditNote() {
		applied, err := creditOutstanding(ctx, tx, inv.tenantID, inv.ContractID, inv.Currency, now)
		return append([]newEvent{creditNoteCreated(inv.tenantID, note)}, applied...), err
	}
	spent, _, err := spendCredit(ctx, tx, inv.tenantID, inv.notes, inv.ID, inv.Total-inv.AmountDue, now)
	if err != nil {
		return nil, err
	}
	return append(spent, inv.paid(now)...), nil
}
