package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// CollectionTarget is what a collection attempt needs to know of an invoice
// and its contract.
type CollectionTarget struct {
	InvoiceID      string `db:"invoice_id"`
	Kind           string `db:"kind"`
	InvoiceStatus  string `db:"invoice_status"`
	AmountDue      int64  `db:"amount_due"`
	Currency       string `db:"currency"`
	PaymentMethod  string `db:"payment_method"`
	ContractStatus string `db:"contract_status"`
	ScheduleStatus string `db:"schedule_status"`
}

const collectionTargets = `
	SELECT i.id AS invoice_id, i.kind, i.status AS invoice_status, i.amount_due, i.currency,
		c.payment_method, c.status AS contract_status, c.schedule_status
	FROM invoices i JOIN contracts c ON c.id = i.contract_id
	WHERE i.tenant_id = $1 AND i.id = ANY($2::uuid[])`

// CollectionTarget loads an invoice for collection.
func (s *Store) CollectionTarget(ctx context.Context, tenantID, invoiceID string) (CollectionTarget, error) {
	targets, err := s.CollectionTargets(ctx, tenantID, []string{invoiceID})
	if err != nil {
		return CollectionTarget{}, err
	}
	t, ok := targets[invoiceID]
	if !ok {
		return t, ErrNotFound
	}
	return t, nil
}

// CollectionTargets loads a batch of the tenant's invoices for collection,
// by invoice id; an invoice that does not exist is missing from the map.
func (s *Store) CollectionTargets(ctx context.Context, tenantID string, invoiceIDs []string) (map[string]CollectionTarget, error) {
	var rows []CollectionTarget
	if err := s.db.SelectContext(ctx, &rows, collectionTargets, tenantID, pq.Array(invoiceIDs)); err != nil {
		return nil, fmt.Errorf("load %d invoices for collection: %w", len(invoiceIDs), err)
	}
	out := make(map[string]CollectionTarget, len(rows))
	for _, r := range rows {
		out[r.InvoiceID] = r
	}
	return out, nil
}

// CollectionAttempt is one finished attempt to collect an invoice: attempt 0
// is the billing run's (or a crossgrade's capture), the others dunning
// retries. Amount is what a successful one took. It keeps its json tags
// because it is the data of the payment events in the outbox, which webhook
// subscribers receive as it is encoded here.
type CollectionAttempt struct {
	Attempt   int                      `json:"attempt" db:"attempt"`
	Outcome   domain.CollectionOutcome `json:"outcome" db:"outcome"`
	Reason    *string                  `json:"reason,omitempty" db:"reason"`
	PaymentID *string                  `json:"paymentId,omitempty" db:"payment_id"`
	Amount    *int64                   `json:"amount,omitempty" db:"amount"`
	At        time.Time                `json:"at" db:"at"`
}

// InvoiceCollection is an attempt on one invoice, for recording a batch.
type InvoiceCollection struct {
	InvoiceID string
	CollectionAttempt
}

// RecordCollectionAttempt stores an attempt once (per invoice and attempt
// number) and, in the same transaction, settles the invoice: a successful
// one lowers its amount due by what it took and, once nothing is due, the
// invoice is paid; a failed one leaves it unpaid. A paid invoice stays paid.
// Only the attempt's first recording moves the ledger or announces anything.
func (s *Store) RecordCollectionAttempt(ctx context.Context, tenantID, invoiceID string, a CollectionAttempt) error {
	return s.RecordCollectionAttempts(ctx, tenantID, []InvoiceCollection{{InvoiceID: invoiceID, CollectionAttempt: a}})
}

// RecordCollectionAttempts records a batch of attempts as
// RecordCollectionAttempt does each, in one transaction: a billing run's
// page of collections commits once.
func (s *Store) RecordCollectionAttempts(ctx context.Context, tenantID string, batch []InvoiceCollection) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var recorded []InvoiceCollection
		paid := map[string]bool{}
		for _, c := range batch {
			first, nowPaid, err := settleCollectionAttempt(ctx, tx, tenantID, c)
			if err != nil {
				return err
			}
			if first {
				recorded = append(recorded, c)
			}
			paid[c.InvoiceID] = nowPaid
		}
		events, err := collectionEvents(ctx, tx, tenantID, recorded, paid)
		if err != nil {
			return err
		}
		return appendEvents(ctx, tx, events)
	})
}

// settleCollectionAttempt stores the attempt and settles its invoice. It
// reports whether this was the attempt's first recording and whether the
// attempt paid the invoice off.
func settleCollectionAttempt(ctx context.Context, tx *sqlx.Tx, tenantID string, c InvoiceCollection) (first, paid bool, err error) {
	a := c.CollectionAttempt
	res, err := tx.ExecContext(ctx, `
		INSERT INTO invoice_payment_attempts (invoice_id, tenant_id, attempt, outcome, reason, payment_id, amount, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (invoice_id, attempt) DO NOTHING`,
		c.InvoiceID, tenantID, a.Attempt, a.Outcome, a.Reason, a.PaymentID, a.Amount, a.At)
	if err != nil {
		return false, false, fmt.Errorf("insert collection attempt: %w", err)
	}
	if recorded, err := res.RowsAffected(); err != nil || recorded == 0 {
		return false, false, err
	}
	var collected int64
	if a.Outcome == domain.CollectionSucceeded && a.Amount != nil {
		collected = *a.Amount
	}
	var status string
	if err := tx.GetContext(ctx, &status, `
		UPDATE invoices SET amount_due = amount_due - $3,
			status = CASE WHEN status = $4 THEN status WHEN amount_due - $3 = 0 THEN $4 ELSE $5 END
		WHERE tenant_id = $1 AND id = $2 RETURNING status`,
		tenantID, c.InvoiceID, collected, domain.InvoicePaid, domain.InvoiceUnpaid); err != nil {
		return false, false, fmt.Errorf("settle invoice: %w", err)
	}
	return true, status == domain.InvoicePaid && collected > 0, nil
}

// collectionEvents announce the attempts recorded, in order, each with its
// payment event and, when it paid the invoice off, invoice.paid after it.
// The invoices are read once, after every attempt has settled its own.
func collectionEvents(ctx context.Context, tx *sqlx.Tx, tenantID string, recorded []InvoiceCollection, paid map[string]bool) ([]newEvent, error) {
	if len(recorded) == 0 {
		return nil, nil
	}
	ids := make([]string, len(recorded))
	for i, c := range recorded {
		ids[i] = c.InvoiceID
	}
	invoices, err := loadInvoices(ctx, tx, `tenant_id = $1 AND id = ANY($2::uuid[])`, tenantID, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]domain.Invoice, len(invoices))
	for _, inv := range invoices {
		byID[inv.ID] = inv
	}
	var events []newEvent
	for _, c := range recorded {
		inv, ok := byID[c.InvoiceID]
		if !ok {
			return nil, fmt.Errorf("invoice %s: %w", c.InvoiceID, ErrNotFound)
		}
		events = append(events, paymentEvent(tenantID, inv, c.CollectionAttempt))
		if paid[c.InvoiceID] {
			events = append(events, invoicePaid(tenantID, inv, c.At))
		}
	}
	return events, nil
}
