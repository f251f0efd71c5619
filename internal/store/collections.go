package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// CollectionTarget is what a collection attempt needs to know of an invoice
// and its contract. The contract's status is not among it: an ended
// contract still owes its invoices.
type CollectionTarget struct {
	InvoiceID      string `db:"invoice_id"`
	InvoiceStatus  string `db:"invoice_status"`
	AmountDue      int64  `db:"amount_due"`
	Currency       string `db:"currency"`
	PaymentMethod  string `db:"payment_method"`
	ScheduleStatus string `db:"schedule_status"`
}

const collectionTargets = `
	SELECT i.id AS invoice_id, i.status AS invoice_status, i.amount_due, i.currency,
		c.payment_method, c.schedule_status
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
//
// An attempt may take more than is due by the time it is recorded: it was
// planned at the amount due then, and credit was set against the invoice
// while it was in flight (a cancellation's, see creditOutstanding). The
// payment pays the invoice, and the excess goes back to the credit notes
// it displaced (restoreCredit), which then go to the contract's other
// outstanding invoices or are refunded, so the customer pays once. That
// rare path takes the contract's other invoices after the notes, against
// the order creditOutstanding takes them in (invoices by id, then notes):
// should the two meet, Postgres ends one as a deadlock, whole, and its
// activity tries it again. So does the rarer meeting of an attempt that
// pays off a schedule in arrears, which then updates its contract
// (clearPaidArrears), with a change holding that contract's lock that
// wants the invoice.
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
		settled, err := settleCollectionAttempts(ctx, tx, tenantID, batch)
		if err != nil {
			return err
		}
		var recorded []InvoiceCollection
		firsts = make(map[string]bool, len(settled))
		for _, c := range batch {
			if _, first := settled[c.InvoiceID]; first {
				recorded = append(recorded, c)
				firsts[c.InvoiceID] = true
			}
		}
		events, err := collectionEvents(ctx, tx, tenantID, recorded, settled)
		if err != nil {
			return err
		}
		if err := clearPaidArrears(ctx, tx, tenantID, paidContracts(settled)); err != nil {
			return err
		}
		for _, c := range recorded {
			inv := settled[c.InvoiceID]
			if inv.Excess == 0 {
				continue
			}
			restored, err := restoreCredit(ctx, tx, tenantID, c.InvoiceID, inv.Excess, c.At)
			if err != nil {
				return err
			}
			applied, err := creditOutstanding(ctx, tx, tenantID, inv.ContractID, inv.Currency, c.At)
			if err != nil {
				return err
			}
			events = append(append(events, restored...), applied...)
		}
		return appendEvents(ctx, tx, events)
	})
	return firsts, err
}

// paidContracts are the contracts of the invoices the attempts paid off,
// in id order, each once.
func paidContracts(settled map[string]settledAttempt) []string {
	var ids []string
	for _, a := range settled {
		if a.Paid {
			ids = append(ids, a.ContractID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// settledAttempt is how recording an attempt settled its invoice.
type settledAttempt struct {
	ContractID string
	Currency   string
	// Paid says the attempt paid the invoice off.
	Paid bool
	// Excess is what the attempt took beyond what was then due.
	Excess int64
}

// settleCollectionAttempts stores the attempts not stored yet and settles
// their invoices. It answers, for each attempt it stored, how it settled its
// invoice; an attempt it does not name was recorded before and changes
// nothing. The invoices are locked first, in id order (so two batches wait
// for each other rather than deadlock), for what each had due before.
func settleCollectionAttempts(ctx context.Context, tx *sqlx.Tx, tenantID string, batch []InvoiceCollection) (map[string]settledAttempt, error) {
	n := len(batch)
	invoices, attempts, outcomes := make([]string, n), make([]int64, n), make([]string, n)
	reasons, payments, amounts, at := make([]*string, n), make([]*string, n), make([]*int64, n), make([]string, n)
	for i, c := range batch {
		invoices[i], attempts[i], outcomes[i] = c.InvoiceID, int64(c.Attempt), string(c.Outcome)
		reasons[i], payments[i], amounts[i], at[i] = c.Reason, c.PaymentID, c.Amount, c.At.Format(time.RFC3339Nano)
	}
	var before []struct {
		ID         string `db:"id"`
		ContractID string `db:"contract_id"`
		Currency   string `db:"currency"`
		Status     string `db:"status"`
		AmountDue  int64  `db:"amount_due"`
	}
	if err := tx.SelectContext(ctx, &before, `
		SELECT id, contract_id, currency, status, amount_due FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])
		ORDER BY id FOR UPDATE`, tenantID, pq.Array(invoices)); err != nil {
		return nil, fmt.Errorf("lock the invoices collected: %w", err)
	}
	var rows []struct {
		InvoiceID string  `db:"id"`
		Status    *string `db:"status"`
		Collected int64   `db:"collected"`
	}
	// Only a successful attempt takes anything off what is due, never below
	// nothing (the excess is credit's to give back); a paid invoice stays
	// paid, and any other is paid once nothing is due.
	if err := tx.SelectContext(ctx, &rows, `
		WITH stored AS (
			INSERT INTO invoice_payment_attempts (invoice_id, tenant_id, attempt, outcome, reason, payment_id, amount, at)
			SELECT a.invoice_id, $1, a.attempt, a.outcome, a.reason, a.payment_id, a.amount, a.at
			FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[])
				AS a (invoice_id, attempt, outcome, reason, payment_id, amount, at)
			ON CONFLICT (invoice_id, attempt) DO NOTHING
			RETURNING invoice_id, CASE WHEN outcome = $9 THEN coalesce(amount, 0) ELSE 0 END AS collected
		), settled AS (
			UPDATE invoices i SET amount_due = greatest(i.amount_due - stored.collected, 0),
				status = CASE WHEN i.status = $10 THEN i.status WHEN i.amount_due - stored.collected <= 0 THEN $10 ELSE $11 END
			FROM stored WHERE i.tenant_id = $1 AND i.id = stored.invoice_id
			RETURNING i.id, i.status
		)
		SELECT stored.invoice_id AS id, settled.status, stored.collected
		FROM stored LEFT JOIN settled ON settled.id = stored.invoice_id`,
		tenantID, pq.Array(invoices), pq.Array(attempts), pq.Array(outcomes), pq.Array(reasons), pq.Array(payments),
		pq.Array(amounts), pq.Array(at), domain.CollectionSucceeded, domain.InvoicePaid, domain.InvoiceUnpaid); err != nil {
		return nil, fmt.Errorf("record collection attempts: %w", err)
	}
	byID := make(map[string]int, len(before))
	for i, b := range before {
		byID[b.ID] = i
	}
	out := make(map[string]settledAttempt, len(rows))
	for _, r := range rows {
		i, ok := byID[r.InvoiceID]
		if r.Status == nil || !ok {
			return nil, fmt.Errorf("settle invoice %s: %w", r.InvoiceID, ErrNotFound)
		}
		b := before[i]
		out[r.InvoiceID] = settledAttempt{
			ContractID: b.ContractID, Currency: b.Currency,
			// Credit that covered the invoice while the attempt was in
			// flight announced it paid already.
			Paid:   b.Status != domain.InvoicePaid && *r.Status == domain.InvoicePaid && r.Collected > 0,
			Excess: max(r.Collected-b.AmountDue, 0),
		}
	}
	return out, nil
}

// collectionEvents announce the attempts recorded, in order, each with its
// payment event and, when it paid the invoice off, invoice.paid after it.
// The invoices are read once, after every attempt has settled its own.
func collectionEvents(ctx context.Context, tx *sqlx.Tx, tenantID string, recorded []InvoiceCollection, settled map[string]settledAttempt) ([]newEvent, error) {
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
		if settled[c.InvoiceID].Paid {
			events = append(events, invoicePaid(tenantID, inv, c.At))
		}
	}
	return events, nil
}
