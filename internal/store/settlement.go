package store

import (
	"context"
	"fmt"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// CreditNote and CreditApplication keep their JSON tags: they are the data
// of the credit_note.created and credit_note.applied events, stored in the
// outbox and delivered by webhooks.
//
// CreditNote is a credit (a negative amendment invoice: a downgrade or a
// cancellation) waiting to be applied to the contract's next invoices.
type CreditNote struct {
	ID         string    `json:"id" db:"id"`
	ContractID string    `json:"contractId" db:"contract_id"`
	InvoiceID  string    `json:"invoiceId" db:"invoice_id"`
	Currency   string    `json:"currency" db:"currency"`
	Amount     int64     `json:"amount" db:"amount"`
	Remaining  int64     `json:"remaining" db:"remaining"`
	CreatedOn  time.Time `json:"createdOn" db:"created_at"`
}

// CreditApplication is part of a credit note applied to an invoice.
type CreditApplication struct {
	CreditNoteID string    `json:"creditNoteId" db:"credit_note_id"`
	InvoiceID    string    `json:"invoiceId" db:"invoice_id"`
	Amount       int64     `json:"amount" db:"amount"`
	AppliedOn    time.Time `json:"appliedOn" db:"applied_at"`
}

// creditAppliedEvent is what credit_note.applied carries: the application
// and what is left of the note.
type creditAppliedEvent struct {
	CreditApplication
	ContractID string `json:"contractId"`
	Currency   string `json:"currency"`
	Remaining  int64  `json:"remaining"`
}

// settledInvoice is an invoice as its settlement starts: it was just written
// in the same transaction.
type settledInvoice struct {
	ID         string `db:"id"`
	ContractID string `db:"contract_id"`
	Currency   string `db:"currency"`
	Total      int64  `db:"total"`
}

// settleNewInvoice settles an invoice in the transaction that issues it: a
// credit becomes a credit note; a charge takes what the contract's credit
// notes hold, oldest first, and what is left is its amount due; one that
// credits cover in full is paid. Only the issuing transaction applies
// credit, so an invoice takes it once (credit_note_applications' key says so
// too). It returns the events to append once every lock is taken.
func settleNewInvoice(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, error) {
	if inv.Total < 0 {
		return issueCreditNote(ctx, tx, tenantID, inv, now)
	}
	events, applied, err := applyCredits(ctx, tx, tenantID, inv, now)
	if err != nil {
		return nil, err
	}
	due := inv.Total - applied
	status := domain.InvoiceOpen
	if due == 0 {
		status = domain.InvoicePaid
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invoices SET amount_due = $3, status = $4 WHERE tenant_id = $1 AND id = $2`,
		tenantID, inv.ID, due, status); err != nil {
		return nil, fmt.Errorf("set invoice's amount due: %w", err)
	}
	if status != domain.InvoicePaid {
		return events, nil
	}
	paid, err := invoicePaidEvent(ctx, tx, tenantID, inv.ID, now)
	return append(events, paid), err
}

func issueCreditNote(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, error) {
	note := CreditNote{
		ID: uuid.NewString(), ContractID: inv.ContractID, InvoiceID: inv.ID, Currency: inv.Currency,
		Amount: -inv.Total, Remaining: -inv.Total, CreatedOn: now,
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO credit_notes (id, tenant_id, contract_id, invoice_id, currency, amount, remaining, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
		note.ID, tenantID, note.ContractID, note.InvoiceID, note.Currency, note.Amount, now); err != nil {
		return nil, fmt.Errorf("issue credit note: %w", err)
	}
	return []newEvent{{TenantID: tenantID, Type: EventCreditNoteCreated, ContractID: inv.ContractID, At: now, Data: note}}, nil
}

// applyCredits applies the contract's credit notes in the invoice's currency
// to it, oldest first, up to its total, and returns how much they covered.
// The notes are locked, so two invoices never spend the same credit.
func applyCredits(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, int64, error) {
	if inv.Total == 0 {
		return nil, 0, nil
	}
	var notes []CreditNote
	if err := tx.SelectContext(ctx, &notes, `
		SELECT id, contract_id, invoice_id, currency, amount, remaining, created_at FROM credit_notes
		WHERE tenant_id = $1 AND contract_id = $2 AND currency = $3 AND remaining > 0
		ORDER BY created_at, id FOR UPDATE`, tenantID, inv.ContractID, inv.Currency); err != nil {
		return nil, 0, fmt.Errorf("lock available credit notes: %w", err)
	}
	var events []newEvent
	var applied int64
	for _, note := range notes {
		if applied == inv.Total {
			break
		}
		amount := min(note.Remaining, inv.Total-applied)
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO credit_note_applications (credit_note_id, invoice_id, tenant_id, amount, applied_at) VALUES ($1, $2, $3, $4, $5)`,
			note.ID, inv.ID, tenantID, amount, now); err != nil {
			return nil, 0, fmt.Errorf("apply credit note %s: %w", note.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credit_notes SET remaining = remaining - $2 WHERE id = $1`, note.ID, amount); err != nil {
			return nil, 0, fmt.Errorf("spend credit note %s: %w", note.ID, err)
		}
		applied += amount
		events = append(events, newEvent{TenantID: tenantID, Type: EventCreditNoteApplied, ContractID: inv.ContractID, At: now,
			Data: creditAppliedEvent{
				CreditApplication: CreditApplication{CreditNoteID: note.ID, InvoiceID: inv.ID, Amount: amount, AppliedOn: now},
				ContractID:        inv.ContractID, Currency: inv.Currency, Remaining: note.Remaining - amount,
			}})
	}
	return events, applied, nil
}

// invoicePaidEvent announces an invoice that has nothing left to collect.
func invoicePaidEvent(ctx context.Context, tx *sqlx.Tx, tenantID, invoiceID string, now time.Time) (newEvent, error) {
	invoices, err := loadInvoices(ctx, tx, `tenant_id = $1 AND id = $2`, tenantID, invoiceID)
	if err != nil {
		return newEvent{}, err
	}
	if len(invoices) == 0 {
		return newEvent{}, ErrNotFound
	}
	return invoicePaid(tenantID, invoices[0], now), nil
}

// invoicePaid is invoice.paid for inv as it is once paid.
func invoicePaid(tenantID string, inv domain.Invoice, at time.Time) newEvent {
	return newEvent{TenantID: tenantID, Type: EventInvoicePaid, ContractID: inv.ContractID, AmendmentID: inv.AmendmentID, At: at, Data: inv}
}

// creditsApplied lists the credits applied to a contract's invoices, by invoice.
func (s *Store) creditsApplied(ctx context.Context, tenantID, contractID string) (map[string][]CreditApplication, error) {
	var rows []CreditApplication
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT a.credit_note_id, a.invoice_id, a.amount, a.applied_at
		FROM credit_note_applications a JOIN invoices i ON i.id = a.invoice_id
		WHERE a.tenant_id = $1 AND i.contract_id = $2 ORDER BY a.applied_at, a.credit_note_id`, tenantID, contractID); err != nil {
		return nil, fmt.Errorf("load credits applied: %w", err)
	}
	out := map[string][]CreditApplication{}
	for _, r := range rows {
		out[r.InvoiceID] = append(out[r.InvoiceID], r)
	}
	return out, nil
}

// creditNotes lists the credit notes a condition selects, oldest first.
func (s *Store) creditNotes(ctx context.Context, where string, args ...any) ([]CreditNote, error) {
	out := []CreditNote{}
	if err := s.db.SelectContext(ctx, &out, `SELECT id, contract_id, invoice_id, currency, amount, remaining, created_at
		FROM credit_notes WHERE `+where+` ORDER BY created_at, id`, args...); err != nil {
		return nil, fmt.Errorf("load credit notes: %w", err)
	}
	return out, nil
}
