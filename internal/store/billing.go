package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// NewInvoice is a recurring invoice to issue.
type NewInvoice struct {
	ContractID string
	Period     domain.Period
	Currency   string
	Lines      []domain.InvoiceLine
	Total      int64
	// PricedAt is the contract's billing state (BillingContract.State) the
	// invoice was priced at.
	PricedAt string
}

// ErrContractChanged refuses invoices priced at a state of their contract
// that has since changed (its lines, its schedule, its term): they are to
// be priced again.
var ErrContractChanged = errors.New("a contract changed while its invoices were priced")

// IssueRecurringInvoices issues, on behalf of billing run runID, the invoices
// not issued yet: invoices_one_recurring_per_period makes a repeated or
// overlapping run issue each period once. It returns how many invoices of
// contractIDs runID has issued, counting those an earlier try of the same step
// issued. Each new invoice takes the contract's available credit notes; one
// with nothing left to collect is issued paid.
//
// A page's invoices are written in one statement and announced in another;
// only an invoice that takes credit, or is not a plain charge, is settled on
// its own (settleNewInvoice).
func (s *Store) IssueRecurringInvoices(ctx context.Context, tenantID, runID string, contractIDs []string, invoices []NewInvoice, now time.Time) (int, error) {
	var issued int
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := holdPricedState(ctx, tx, tenantID, invoices); err != nil {
			return err
		}
		created, err := insertRecurringInvoices(ctx, tx, tenantID, runID, invoices, now)
		if err != nil {
			return err
		}
		withCredit, err := contractsWithCredit(ctx, tx, tenantID, created)
		if err != nil {
			return err
		}
		ids := make([]string, len(created))
		var settled []newEvent
		for i, inv := range created {
			ids[i] = inv.ID
			if inv.Total > 0 && !withCredit[inv.ContractID+"/"+inv.Currency] {
				continue // issued with its total due
			}
			events, err := settleNewInvoice(ctx, tx, tenantID, inv, now)
			if err != nil {
				return err
			}
			settled = append(settled, events...)
		}
		announced, err := invoiceCreatedEvents(ctx, tx, tenantID, ids, now)
		if err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, append(announced, settled...)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &issued, `
			SELECT count(*) FROM invoices WHERE tenant_id = $1 AND billing_run = $2 AND contract_id = ANY($3::uuid[])`,
			tenantID, runID, pq.Array(contractIDs)); err != nil {
			return fmt.Errorf("count issued invoices: %w", err)
		}
		return nil
	})
	return issued, err
}

// holdPricedState share-locks the invoices' contracts until the invoices
// are committed, and refuses them (ErrContractChanged) when a contract's
// billing state is no longer the one they were priced at. Whatever changes
// that state takes the contract's lock: a change applied, a schedule stopped
// or restarted, a term renewed or ended. So it either commits first, and the
// invoices are priced again, or waits, and then finds its period invoiced
// (a change raises its prorated charge): neither side misses the other.
func holdPricedState(ctx context.Context, tx *sqlx.Tx, tenantID string, invoices []NewInvoice) error {
	priced := make(map[string]string, len(invoices))
	for _, inv := range invoices {
		priced[inv.ContractID] = inv.PricedAt
	}
	ids := slices.Sorted(maps.Keys(priced))
	var rows []struct {
		ID    string `db:"id"`
		State string `db:"state"`
	}
	if err := tx.SelectContext(ctx, &rows, `
		SELECT c.id, `+billingState+` AS state FROM contracts c
		WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[]) ORDER BY c.id FOR SHARE`,
		tenantID, pq.Array(ids)); err != nil {
		return fmt.Errorf("lock the contracts to invoice: %w", err)
	}
	for _, r := range rows {
		if r.State != priced[r.ID] {
			return fmt.Errorf("%w: contract %s is now %s, priced at %s", ErrContractChanged, r.ID, r.State, priced[r.ID])
		}
	}
	return nil
}

// insertRecurringInvoices inserts the invoices of periods not invoiced yet,
// open for their whole total (none for a credit), and returns those it
// inserted.
func insertRecurringInvoices(ctx context.Context, tx *sqlx.Tx, tenantID, runID string, invoices []NewInvoice, now time.Time) ([]settledInvoice, error) {
	if len(invoices) == 0 {
		return nil, nil
	}
	n := len(invoices)
	ids, contracts, starts, ends := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	currencies, lines, totals := make([]string, n), make([]string, n), make([]int64, n)
	for i, inv := range invoices {
		encoded, err := json.Marshal(inv.Lines)
		if err != nil {
			return nil, fmt.Errorf("encode invoice lines: %w", err)
		}
		ids[i], contracts[i], starts[i], ends[i] = uuid.NewString(), inv.ContractID, inv.Period.Start.String(), inv.Period.End.String()
		currencies[i], lines[i], totals[i] = inv.Currency, string(encoded), inv.Total
	}
	var created []settledInvoice
	if err := tx.SelectContext(ctx, &created, `
		INSERT INTO invoices (id, tenant_id, contract_id, kind, period_start, period_end, currency, lines, total, amount_due, status, created_at, billing_run)
		SELECT i.id, $1, i.contract_id, 'RECURRING', i.period_start, i.period_end, i.currency, i.lines, i.total, greatest(i.total, 0), $2, $3, $4
		FROM unnest($5::uuid[], $6::uuid[], $7::date[], $8::date[], $9::text[], $10::jsonb[], $11::bigint[])
			AS i (id, contract_id, period_start, period_end, currency, lines, total)
		ON CONFLICT (contract_id, period_start) WHERE kind = 'RECURRING' DO NOTHING
		RETURNING id, contract_id, currency, total`,
		tenantID, domain.InvoiceOpen, now, runID, pq.Array(ids), pq.Array(contracts), pq.Array(starts), pq.Array(ends),
		pq.Array(currencies), pq.Array(lines), pq.Array(totals)); err != nil {
		return nil, fmt.Errorf("insert recurring invoices: %w", err)
	}
	return created, nil
}

// contractsWithCredit says which of the invoices' contracts hold credit in
// the invoice's currency, keyed contract/currency. A credit note committed
// after this read waits for the contract's next invoice, as it would had it
// committed after the invoice.
func contractsWithCredit(ctx context.Context, tx *sqlx.Tx, tenantID string, invoices []settledInvoice) (map[string]bool, error) {
	contracts := make([]string, len(invoices))
	for i, inv := range invoices {
		contracts[i] = inv.ContractID
	}
	var keys []string
	if err := tx.SelectContext(ctx, &keys, `
		SELECT DISTINCT contract_id || '/' || currency FROM credit_notes
		WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) AND remaining > 0`, tenantID, pq.Array(contracts)); err != nil {
		return nil, fmt.Errorf("find contracts with credit: %w", err)
	}
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out, nil
}

// OpenInvoice is an invoice no collection has finished yet.
type OpenInvoice struct {
	ID          string      `db:"id"`
	ContractID  string      `db:"contract_id"`
	PeriodStart domain.Date `db:"period_start"`
}

// InvoicesToCollect lists the contracts' open invoices due by asOf, oldest
// first: recurring ones just issued or left by an interrupted run, and the
// prorated charges amendments raised since the last run. An amendment
// invoice a crossgrade paid up front is not collected again.
func (s *Store) InvoicesToCollect(ctx context.Context, tenantID string, contractIDs []string, asOf domain.Date) ([]OpenInvoice, error) {
	var out []OpenInvoice
	err := s.db.SelectContext(ctx, &out, `
		SELECT id, contract_id, period_start FROM invoices
		WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) AND status = $3 AND NOT paid_up_front AND period_start <= $4
		ORDER BY period_start, contract_id, kind DESC, id`, tenantID, pq.Array(contractIDs), domain.InvoiceOpen, asOf)
	if err != nil {
		return nil, fmt.Errorf("list open invoices: %w", err)
	}
	return out, nil
}

// EndedContractCharges lists the open invoices, due by asOf, of the
// tenant's contracts that are no longer active and whose schedule collects:
// a period billed before the contract ended, an amendment's charge, an
// early-termination fee larger than the cancellation's credit. The contract
// still owes them, but billing pages over the contracts it bills, so these
// are collected separately, once per run; of the contracts on the test
// clock clockID, or on the wall clock when nil.
func (s *Store) EndedContractCharges(ctx context.Context, tenantID string, clockID *string, asOf domain.Date) ([]OpenInvoice, error) {
	var out []OpenInvoice
	err := s.db.SelectContext(ctx, &out, `
		SELECT i.id, i.contract_id, i.period_start FROM invoices i JOIN contracts c ON c.id = i.contract_id
		WHERE i.tenant_id = $1 AND i.status = $2 AND NOT i.paid_up_front AND i.period_start <= $3
			AND c.status <> $4 AND c.schedule_status = $5 AND c.test_clock_id IS NOT DISTINCT FROM $6::uuid
		ORDER BY i.period_start, i.contract_id, i.kind DESC, i.id`, tenantID, domain.InvoiceOpen, asOf, domain.ContractActive, domain.ScheduleActive, clockID)
	if err != nil {
		return nil, fmt.Errorf("list open invoices of ended contracts: %w", err)
	}
	return out, nil
}

// SettleUpFront records the capture of a crossgrade's up-front payment on
// the invoice its amendment raised, as that invoice's collection: it is paid
// and the capture is linked to it. Recording it again changes nothing.
func (s *Store) SettleUpFront(ctx context.Context, tenantID, amendmentID, paymentID string, amount int64, now time.Time) error {
	var inv struct {
		ID string `db:"id"`
		// The contract's test clock's time, if it lives on one.
		Clock *time.Time `db:"clock_time"`
	}
	err := s.db.GetContext(ctx, &inv, `SELECT i.id, (SELECT t.frozen_time FROM contracts c JOIN test_clocks t ON t.id = c.test_clock_id WHERE c.id = i.contract_id) AS clock_time
		FROM invoices i WHERE i.tenant_id = $1 AND i.amendment_id = $2`, tenantID, amendmentID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("find the crossgrade's invoice: %w", err)
	}
	return s.RecordCollectionAttempt(ctx, tenantID, inv.ID, CollectionAttempt{
		Outcome: domain.CollectionSucceeded, PaymentID: &paymentID, Amount: &amount, At: onClock(inv.Clock, now),
	})
}

// MarkScheduleInArrears flags the schedule of a contract whose invoice's
// dunning ran out, if that invoice is still unpaid: credit may have paid it
// meanwhile, and a schedule is in arrears only while it owes (see
// clearPaidArrears).
func (s *Store) MarkScheduleInArrears(ctx context.Context, tenantID, contractID, invoiceID string) error {
	if _, err := s.db.ExecContext(ctx, `
		UPDATE contracts SET schedule_in_arrears = true WHERE tenant_id = $1 AND id = $2
			AND EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = $1 AND i.id = $3 AND i.status = $4)`,
		tenantID, contractID, invoiceID, domain.InvoiceUnpaid); err != nil {
		return fmt.Errorf("mark schedule in arrears: %w", err)
	}
	return nil
}

// clearPaidArrears takes the arrears off those of the contracts whose
// schedule is in arrears and that no longer have an unpaid invoice: what
// the dunning ran out on has been paid (a resumed attempt, credit). It runs
// in the transaction that paid it. A contract not in arrears is not
// touched, nor locked.
func clearPaidArrears(ctx context.Context, tx *sqlx.Tx, tenantID string, contractIDs []string) error {
	if len(contractIDs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE contracts c SET schedule_in_arrears = false
		WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[]) AND c.schedule_in_arrears
			AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = $1 AND i.contract_id = c.id AND i.status = $3)`,
		tenantID, pq.Array(contractIDs), domain.InvoiceUnpaid); err != nil {
		return fmt.Errorf("clear paid arrears: %w", err)
	}
	return nil
}

// TenantIDs lists every tenant, for the daily billing of all of them.
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM tenants ORDER BY prefix`); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ids, nil
}

// InvoiceWithPayments is an invoice with its collection attempts, oldest
// first, and the credits applied to it.
type InvoiceWithPayments struct {
	domain.Invoice
	Attempts []CollectionAttempt
	Credits  []CreditApplication
}

// ContractInvoices is a contract's invoices, its credit notes and where its
// schedule stands.
type ContractInvoices struct {
	ContractID     string
	ScheduleStatus string
	InArrears      bool
	Items          []InvoiceWithPayments
	CreditNotes    []CreditNote
}

// ContractInvoices lists one of the scope's contracts' invoices by period,
// with their payment state. key is the uuid, the CT- number or the numeric ref.
func (s *Store) ContractInvoices(ctx context.Context, sc Scope, key string) (ContractInvoices, error) {
	tenantID := sc.TenantID
	clause, arg := contractKeyClause(key)
	var out ContractInvoices
	err := s.db.QueryRowxContext(ctx, `
		SELECT c.id, c.schedule_status, c.schedule_in_arrears FROM contracts c WHERE c.tenant_id = $1 AND `+clause,
		tenantID, arg).Scan(&out.ContractID, &out.ScheduleStatus, &out.InArrears)
	if errors.Is(err, sql.ErrNoRows) {
		return ContractInvoices{}, ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("load contract: %w", err)
	}
	if err := s.inScope(ctx, sc, out.ContractID); err != nil {
		return ContractInvoices{}, err
	}
	invoices, err := loadInvoices(ctx, s.db, `tenant_id = $1 AND contract_id = $2`, tenantID, out.ContractID)
	if err != nil {
		return out, err
	}
	var attempts []struct {
		InvoiceID string `db:"invoice_id"`
		CollectionAttempt
	}
	if err := s.db.SelectContext(ctx, &attempts, `
		SELECT a.invoice_id, a.attempt, a.outcome, a.reason, a.payment_id, a.amount, a.at
		FROM invoice_payment_attempts a JOIN invoices i ON i.id = a.invoice_id
		WHERE a.tenant_id = $1 AND i.contract_id = $2 ORDER BY a.invoice_id, a.attempt`, tenantID, out.ContractID); err != nil {
		return out, fmt.Errorf("load collection attempts: %w", err)
	}
	byInvoice := map[string][]CollectionAttempt{}
	for _, a := range attempts {
		byInvoice[a.InvoiceID] = append(byInvoice[a.InvoiceID], a.CollectionAttempt)
	}
	credits, err := s.creditsApplied(ctx, tenantID, out.ContractID)
	if err != nil {
		return out, err
	}
	if out.CreditNotes, err = s.creditNotes(ctx, `tenant_id = $1 AND contract_id = $2`, tenantID, out.ContractID); err != nil {
		return out, err
	}
	// Invoices issued together share created_at; the period orders them.
	slices.SortStableFunc(invoices, func(a, b domain.Invoice) int { return a.PeriodStart.Time().Compare(b.PeriodStart.Time()) })
	out.Items = make([]InvoiceWithPayments, len(invoices))
	for i, inv := range invoices {
		out.Items[i] = InvoiceWithPayments{Invoice: inv, Attempts: nonNil(byInvoice[inv.ID]), Credits: nonNil(credits[inv.ID])}
	}
	return out, nil
}

// nonNil makes a missing list an empty one, which encodes as [].
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
