package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// CreditNote and CreditApplication keep their JSON tags: they are the data
// of the credit_note.created and credit_note.applied events, stored in the
// outbox and delivered by webhooks.
//
// CreditNote is a credit (a negative amendment invoice: a downgrade or a
// cancellation): set at once against what its contract still owes, and
// what is left against the contract's next invoices.
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

// creditAppliedEvent is what credit_note.applied and credit_note.restored
// carry: the credit moved to or from an invoice and what is left of the note.
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
// credit becomes a credit note, set at once against what the contract still
// owes (creditOutstanding); a charge takes what the contract's credit notes
// hold, oldest first, and what is left is its amount due; one that credits
// cover in full is paid. It returns the events to append once every lock is
// taken.
func settleNewInvoice(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, error) {
	if inv.Total < 0 {
		created, err := issueCreditNote(ctx, tx, tenantID, inv, now)
		if err != nil {
			return nil, err
		}
		applied, err := creditOutstanding(ctx, tx, tenantID, inv.ContractID, inv.Currency, now)
		return append(created, applied...), err
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
	settled, err := updateInvoice(ctx, tx, `UPDATE invoices SET amount_due = $3, status = $4 WHERE tenant_id = $1 AND id = $2`,
		tenantID, inv.ID, due, status)
	if err != nil {
		return nil, fmt.Errorf("set invoice's amount due: %w", err)
	}
	if status != domain.InvoicePaid {
		return events, nil
	}
	return append(events, invoicePaid(tenantID, settled, now)), nil
}

// creditNoteFor is the credit note a credit (an invoice of a negative
// total) issues, all of it yet to spend.
func creditNoteFor(inv settledInvoice, now time.Time) CreditNote {
	return CreditNote{
		ID: uuid.NewString(), ContractID: inv.ContractID, InvoiceID: inv.ID, Currency: inv.Currency,
		Amount: -inv.Total, Remaining: -inv.Total, CreatedOn: now,
	}
}

// creditNoteCreated announces a credit note issued.
func creditNoteCreated(tenantID string, note CreditNote) newEvent {
	return newEvent{TenantID: tenantID, Type: EventCreditNoteCreated, ContractID: note.ContractID, At: note.CreatedOn, Data: note}
}

func issueCreditNote(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, error) {
	note := creditNoteFor(inv, now)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO credit_notes (id, tenant_id, contract_id, invoice_id, currency, amount, remaining, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
		note.ID, tenantID, note.ContractID, note.InvoiceID, note.Currency, note.Amount, now); err != nil {
		return nil, fmt.Errorf("issue credit note: %w", err)
	}
	return []newEvent{creditNoteCreated(tenantID, note)}, nil
}

// applyCredits applies the contract's credit notes in the invoice's currency
// to it, oldest first, up to its total, and returns how much they covered.
// The notes are locked, so two invoices never spend the same credit.
func applyCredits(ctx context.Context, tx *sqlx.Tx, tenantID string, inv settledInvoice, now time.Time) ([]newEvent, int64, error) {
	if inv.Total == 0 {
		return nil, 0, nil
	}
	notes, err := lockCredit(ctx, tx, tenantID, inv.ContractID, inv.Currency)
	if err != nil {
		return nil, 0, err
	}
	return spendCredit(ctx, tx, tenantID, notes, inv.ID, inv.Total, now)
}

// lockCredit locks the contract's credit notes in a currency that still
// hold credit, oldest first.
func lockCredit(ctx context.Context, tx *sqlx.Tx, tenantID, contractID, currency string) ([]CreditNote, error) {
	var notes []CreditNote
	if err := tx.SelectContext(ctx, &notes, `
		SELECT id, contract_id, invoice_id, currency, amount, remaining, created_at FROM credit_notes
		WHERE tenant_id = $1 AND contract_id = $2 AND currency = $3 AND remaining > 0
		ORDER BY created_at, id FOR UPDATE`, tenantID, contractID, currency); err != nil {
		return nil, fmt.Errorf("lock available credit notes: %w", err)
	}
	return notes, nil
}

// spendCredit applies locked notes, oldest first, to one invoice, up to
// limit, and returns how much they covered; each note's Remaining is
// lowered in place, so the caller can go on spending what is left on the
// next invoice. A note applied to the invoice before (then given back by a
// payment that was in flight, see restoreCredit) adds to its application:
// one row per note and invoice.
func spendCredit(ctx context.Context, tx *sqlx.Tx, tenantID string, notes []CreditNote, invoiceID string, limit int64, now time.Time) ([]newEvent, int64, error) {
	var events []newEvent
	var applied int64
	for i := range notes {
		note := &notes[i]
		if applied == limit {
			break
		}
		amount := min(note.Remaining, limit-applied)
		if amount == 0 {
			continue
		}
		// The application and what it takes from the note, in one statement.
		if _, err := tx.ExecContext(ctx, `
			WITH application AS (
				INSERT INTO credit_note_applications (credit_note_id, invoice_id, tenant_id, amount, applied_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (credit_note_id, invoice_id) DO UPDATE SET amount = credit_note_applications.amount + excluded.amount,
					applied_at = excluded.applied_at)
			UPDATE credit_notes SET remaining = remaining - $4 WHERE id = $1`,
			note.ID, invoiceID, tenantID, amount, now); err != nil {
			return nil, 0, fmt.Errorf("apply credit note %s: %w", note.ID, err)
		}
		note.Remaining -= amount
		applied += amount
		events = append(events, creditEvent(tenantID, EventCreditNoteApplied, *note, invoiceID, amount, now))
	}
	return events, applied, nil
}

// creditEvent is credit_note.applied, or credit_note.restored, for amount
// of note moved to or from an invoice; note is as it is after the move.
func creditEvent(tenantID, eventType string, note CreditNote, invoiceID string, amount int64, now time.Time) newEvent {
	return newEvent{TenantID: tenantID, Type: eventType, ContractID: note.ContractID, At: now,
		Data: creditAppliedEvent{
			CreditApplication: CreditApplication{CreditNoteID: note.ID, InvoiceID: invoiceID, Amount: amount, AppliedOn: now},
			ContractID:        note.ContractID, Currency: note.Currency, Remaining: note.Remaining,
		}}
}

// outstandingInvoice is an invoice with an amount still to collect.
type outstandingInvoice struct {
	ID          string    `db:"id"`
	AmountDue   int64     `db:"amount_due"`
	PeriodStart time.Time `db:"period_start"`
	CreatedAt   time.Time `db:"created_at"`
}

// creditOutstanding sets the contract's credit in a currency against its
// invoices in that currency that are still owed (OPEN or UNPAID, oldest
// first), before any of it is kept for later invoices or, on a contract that
// has ended, reported as refundDue: a customer is not owed back money while
// the same contract owes them. An invoice it covers in full is paid, so its
// dunning stops at its next retry, and a schedule in arrears that owes
// nothing more is no longer (clearPaidArrears). A crossgrade paid up front takes no
// credit: its own authorisation pays it.
//
// The invoices are locked in id order before the notes, as a collection's
// recording locks its own (settleCollectionAttempts), so the two wait for
// each other rather than deadlock; they take the credit oldest first. A
// collection attempt
// in flight for one of these invoices was planned at the amount due before
// this credit: if it succeeds, its recording finds less due than it took
// and gives the difference back to the notes (restoreCredit), so the
// customer is never charged for what credit already covered.
func creditOutstanding(ctx context.Context, tx *sqlx.Tx, tenantID, contractID, currency string, now time.Time) ([]newEvent, error) {
	var invoices []outstandingInvoice
	if err := tx.SelectContext(ctx, &invoices, `
		SELECT id, amount_due, period_start, created_at FROM invoices
		WHERE tenant_id = $1 AND contract_id = $2 AND currency = $3 AND status = ANY($4) AND amount_due > 0 AND NOT paid_up_front
		ORDER BY id FOR UPDATE`,
		tenantID, contractID, currency, pq.Array([]string{domain.InvoiceOpen, domain.InvoiceUnpaid})); err != nil {
		return nil, fmt.Errorf("lock the contract's outstanding invoices: %w", err)
	}
	slices.SortFunc(invoices, func(a, b outstandingInvoice) int {
		return cmp.Or(a.PeriodStart.Compare(b.PeriodStart), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	if len(invoices) == 0 {
		return nil, nil
	}
	notes, err := lockCredit(ctx, tx, tenantID, contractID, currency)
	if err != nil {
		return nil, err
	}
	var events []newEvent
	paidOff := false
	for _, inv := range invoices {
		applied, covered, err := spendCredit(ctx, tx, tenantID, notes, inv.ID, inv.AmountDue, now)
		if err != nil {
			return nil, err
		}
		if covered == 0 {
			break // no credit left
		}
		events = append(events, applied...)
		credited, err := updateInvoice(ctx, tx, `
			UPDATE invoices SET amount_due = amount_due - $3, status = CASE WHEN amount_due = $3 THEN $4 ELSE status END
			WHERE tenant_id = $1 AND id = $2`, tenantID, inv.ID, covered, domain.InvoicePaid)
		if err != nil {
			return nil, fmt.Errorf("set credit against invoice %s: %w", inv.ID, err)
		}
		if credited.Status == domain.InvoicePaid {
			paidOff = true
			events = append(events, invoicePaid(tenantID, credited, now))
		}
	}
	if paidOff {
		return events, clearPaidArrears(ctx, tx, tenantID, []string{contractID})
	}
	return events, nil
}

// restoreCredit gives excess back from the credit applied to an invoice, to
// the notes it came from, the latest application first. It is for a
// collection attempt that took more than was left due when it was
// recorded: credit was set against the invoice while the attempt, planned
// at the amount due before, was in flight. The payment was taken, so it
// pays the invoice, and the credit it displaced is the customer's again,
// for the contract's other invoices or, once the contract has ended, to be
// refunded. The invoice is locked by the caller; an excess that credit
// applied cannot explain is refused, as the ledger would not balance.
func restoreCredit(ctx context.Context, tx *sqlx.Tx, tenantID, invoiceID string, excess int64, now time.Time) ([]newEvent, error) {
	var rows []struct {
		CreditNote
		Applied int64 `db:"applied"`
	}
	if err := tx.SelectContext(ctx, &rows, `
		SELECT n.id, n.contract_id, n.invoice_id, n.currency, n.amount, n.remaining, n.created_at, a.amount AS applied
		FROM credit_note_applications a JOIN credit_notes n ON n.id = a.credit_note_id
		WHERE a.tenant_id = $1 AND a.invoice_id = $2 ORDER BY a.applied_at DESC, n.created_at DESC, n.id DESC
		FOR UPDATE`, tenantID, invoiceID); err != nil {
		return nil, fmt.Errorf("lock the credit applied to invoice %s: %w", invoiceID, err)
	}
	var events []newEvent
	for _, r := range rows {
		if excess == 0 {
			break
		}
		back := min(r.Applied, excess)
		// An application's amount stays positive: one given back whole goes.
		giveBack := `UPDATE credit_note_applications SET amount = amount - $3 WHERE credit_note_id = $1 AND invoice_id = $2`
		if back == r.Applied {
			giveBack = `DELETE FROM credit_note_applications WHERE credit_note_id = $1 AND invoice_id = $2 AND amount = $3`
		}
		if _, err := tx.ExecContext(ctx, giveBack, r.ID, invoiceID, back); err != nil {
			return nil, fmt.Errorf("give back credit note %s: %w", r.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credit_notes SET remaining = remaining + $2 WHERE id = $1`, r.ID, back); err != nil {
			return nil, fmt.Errorf("restore credit note %s: %w", r.ID, err)
		}
		r.Remaining += back
		excess -= back
		events = append(events, creditEvent(tenantID, EventCreditNoteRestored, r.CreditNote, invoiceID, back, now))
	}
	if excess > 0 {
		return nil, fmt.Errorf("invoice %s was paid %d beyond its total and the credit applied to it", invoiceID, excess)
	}
	return events, nil
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
