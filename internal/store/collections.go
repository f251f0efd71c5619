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
		for _, c := range batch {
			if err := recordCollectionAttempt(ctx, tx, tenantID, c.InvoiceID, c.CollectionAttempt); err != nil {
				return err
			}
		}
		return nil
	})
}

func recordCollectionAttempt(ctx context.Context, tx *sqlx.Tx, tenantID, invoiceID string, a CollectionAttempt) error {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO invoice_payment_attempts (invoice_id, tenant_id, attempt, outcome, reason, payment_id, amount, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (invoice_id, attempt) DO NOTHING`,
		invoiceID, tenantID, a.Attempt, a.Outcome, a.Reason, a.PaymentID, a.Amount, a.At)
	if err != nil {
		return fmt.Errorf("insert collection attempt: %w", err)
	}
	if recorded, err := res.RowsAffected(); err != nil || recorded == 0 {
		return err
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
		tenantID, invoiceID, collected, domain.InvoicePaid, domain.InvoiceUnpaid); err != nil {
		return fmt.Errorf("settle invoice: %w", err)
	}
	events := []newEvent{}
	if status == domain.InvoicePaid && collected > 0 {
		paid, err := invoicePaidEvent(ctx, tx, tenantID, invoiceID, a.At)
		if err != nil {
			return err
		}
		events = append(events, paid)
	}
	if err := insertPaymentEvent(ctx, tx, tenantID, invoiceID, a); err != nil {
		return err
	}
	return appendEvents(ctx, tx, events)
}
