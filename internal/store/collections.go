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
	_, err := s.RecordCollectionAttempts(ctx, tenantID, []InvoiceCollection{{InvoiceID: invoiceID, CollectionAttempt: a}})
	return err
}

// RecordCollectionAttempts records a batch of attempts as
// RecordCollectionAttempt does each, in one transaction: a billing run's
// page of collections commits once. It returns the invoices whose attempt
// it recorded; the others' were recorded before.
func (s *Store) RecordCollectionAttempts(ctx context.Context, tenantID string, batch []InvoiceCollection) (map[string]bool, error) {
	seen := make(map[string]bool, len(batch))
	for _, c := range batch {
		if seen[c.InvoiceID] {
			return nil, fmt.Errorf("record collection attempts: invoice %s twice in one batch", c.InvoiceID)
		}
		seen[c.InvoiceID] = true
	}
	var firsts map[string]bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		paid, err := settleCollectionAttempts(ctx, tx, tenantID, batch)
		if err != nil {
			return err
		}
		var recorded []InvoiceCollection
		firsts = make(map[string]bool, len(paid))
		for _, c := range batch {
			if _, first := paid[c.InvoiceID]; first {
				recorded = append(recorded, c)
				firsts[c.InvoiceID] = true
			}
		}
		events, err := collectionEvents(ctx, tx, tenantID, recorded, paid)
		if err != nil {
			return err
		}
		return appendEvents(ctx, tx, events)
	})
	return firsts, err
}

// settleCollectionAttempts stores the attempts not stored yet and settles
// their invoices, in one statement. It answers, for each attempt it stored,
// whether that attempt paid its invoice off; an attempt it does not name was
// recorded before and changes nothing.
func settleCollectionAttempts(ctx context.Context, tx *sqlx.Tx, tenantID string, batch []InvoiceCollection) (map[string]bool, error) {
	n := len(batch)
	invoices, attempts, outcomes := make([]string, n), make([]int64, n), make([]string, n)
	reasons, payments, amounts, at := make([]*string, n), make([]*string, n), make([]*int64, n), make([]string, n)
	for i, c := range batch {
		invoices[i], attempts[i], outcomes[i] = c.InvoiceID, int64(c.Attempt), string(c.Outcome)
		reasons[i], payments[i], amounts[i], at[i] = c.Reason, c.PaymentID, c.Amount, c.At.Format(time.RFC3339Nano)
	}
	var rows []struct {
		InvoiceID string  `db:"id"`
		Status    *string `db:"status"`
		Collected int64   `db:"collected"`
	}
	// Only a successful attempt takes anything off what is due; a paid
	// invoice stays paid, and any other is paid once nothing is due.
	if err := tx.SelectContext(ctx, &rows, `
		WITH stored AS (
			INSERT INTO invoice_payment_attempts (invoice_id, tenant_id, attempt, outcome, reason, payment_id, amount, at)
			SELECT a.invoice_id, $1, a.attempt, a.outcome, a.reason, a.payment_id, a.amount, a.at
			FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[])
				AS a (invoice_id, attempt, outcome, reason, payment_id, amount, at)
			ON CONFLICT (invoice_id, attempt) DO NOTHING
			RETURNING invoice_id, CASE WHEN outcome = $9 THEN coalesce(amount, 0) ELSE 0 END AS collected
		), settled AS (
			UPDATE invoices i SET amount_due = i.amount_due - stored.collected,
				status = CASE WHEN i.status = $10 THEN i.status WHEN i.amount_due - stored.collected = 0 THEN $10 ELSE $11 END
			FROM stored WHERE i.tenant_id = $1 AND i.id = stored.invoice_id
			RETURNING i.id, i.status
		)
		SELECT stored.invoice_id AS id, settled.status, stored.collected
		FROM stored LEFT JOIN settled ON settled.id = stored.invoice_id`,
		tenantID, pq.Array(invoices), pq.Array(attempts), pq.Array(outcomes), pq.Array(reasons), pq.Array(payments),
		pq.Array(amounts), pq.Array(at), domain.CollectionSucceeded, domain.InvoicePaid, domain.InvoiceUnpaid); err != nil {
		return nil, fmt.Errorf("record collection attempts: %w", err)
	}
	paid := make(map[string]bool, len(rows))
	for _, r := range rows {
		if r.Status == nil {
			return nil, fmt.Errorf("settle invoice %s: %w", r.InvoiceID, ErrNotFound)
		}
		paid[r.InvoiceID] = *r.Status == domain.InvoicePaid && r.Collected > 0
	}
	return paid, nil
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
