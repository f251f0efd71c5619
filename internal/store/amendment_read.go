package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

const amendmentColumns = `m.id, m.contract_id, c.number AS contract_number, m.action, m.status, m.effective_date, m.quote, m.quote_version,
	m.matched_rule, m.review_expires_at, m.source, m.submitted_by, m.workflow_id, m.created_at, m.updated_at`

type amendmentRow struct {
	domain.Amendment
	QuoteJSON []byte `db:"quote"`
	RuleJSON  []byte `db:"matched_rule"`
}

func (r amendmentRow) amendment() (domain.Amendment, error) {
	am := r.Amendment
	if err := json.Unmarshal(r.QuoteJSON, &am.Quote); err != nil {
		return am, fmt.Errorf("decode quote: %w", err)
	}
	am.Quote.Status = am.Status
	if len(r.RuleJSON) > 0 {
		am.MatchedRule = &domain.MatchedRule{}
		if err := json.Unmarshal(r.RuleJSON, am.MatchedRule); err != nil {
			return am, fmt.Errorf("decode matched rule: %w", err)
		}
	}
	return am, nil
}

// Amendment loads one of the scope's amendments with its history and invoice.
func (s *Store) Amendment(ctx context.Context, sc Scope, id string) (domain.Amendment, error) {
	am, err := loadAmendment(ctx, s.db, sc.TenantID, id)
	if err == nil {
		err = s.inScope(ctx, sc, am.ContractID)
	}
	if err != nil {
		return domain.Amendment{}, err
	}
	return am, nil
}

// amendmentHistory reads an amendment's history and invoice as JSON spelt as
// domain.AmendmentEvent and domain.Invoice encode, so that an amendment loads
// in one statement.
const amendmentHistory = `,
	COALESCE((SELECT json_agg(` + amendmentEventJSON + ` ORDER BY e.id)
		FROM amendment_events e WHERE e.amendment_id = m.id), '[]') AS history,
	(SELECT json_build_object('id', i.id, 'contractId', i.contract_id, 'amendmentId', i.amendment_id, 'kind', i.kind,
			'periodStart', i.period_start, 'periodEnd', i.period_end, 'currency', i.currency, 'lines', i.lines,
			'total', i.total, 'amountDue', i.amount_due, 'status', i.status, 'createdOn', i.created_at)
		FROM invoices i WHERE i.amendment_id = m.id) AS invoice`

// amendmentEventJSON spells an amendment event (e) as domain.AmendmentEvent
// encodes.
const amendmentEventJSON = `json_build_object('status', e.status, 'actorId', e.actor_id, 'source', e.source, 'note', e.note, 'at', e.at)`

func loadAmendment(ctx context.Context, q sqlx.QueryerContext, tenantID, id string) (domain.Amendment, error) {
	id, ok := canonicalID(id)
	if !ok {
		return domain.Amendment{}, ErrNotFound
	}
	am, err := getAmendment(ctx, q, `SELECT `+amendmentColumns+amendmentHistory+`
		FROM amendments m JOIN contracts c ON c.id = m.contract_id WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Amendment{}, ErrNotFound
	}
	if err != nil {
		return domain.Amendment{}, fmt.Errorf("load amendment: %w", err)
	}
	return am, nil
}

// getAmendment runs query, which selects one amendment's amendmentColumns
// and its history (and invoice, if any) as amendmentHistory spells them.
func getAmendment(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (domain.Amendment, error) {
	var row struct {
		amendmentRow
		HistoryJSON []byte `db:"history"`
		InvoiceJSON []byte `db:"invoice"`
	}
	if err := sqlx.GetContext(ctx, q, &row, query, args...); err != nil {
		return domain.Amendment{}, err
	}
	am, err := row.amendment()
	if err != nil {
		return am, err
	}
	if err := json.Unmarshal(row.HistoryJSON, &am.History); err != nil {
		return am, fmt.Errorf("decode amendment history: %w", err)
	}
	if row.InvoiceJSON != nil {
		am.Invoice = &domain.Invoice{}
		if err := json.Unmarshal(row.InvoiceJSON, am.Invoice); err != nil {
			return am, fmt.Errorf("decode amendment invoice: %w", err)
		}
	}
	return am, nil
}

// invoiceColumns are what invoiceRow reads of an invoice.
const invoiceColumns = `id, contract_id, amendment_id, kind, period_start, period_end, currency, lines, total, amount_due, status, created_at`

// invoiceRow is an invoice as invoiceColumns read it.
type invoiceRow struct {
	domain.Invoice
	LinesJSON []byte `db:"lines"`
}

func (r invoiceRow) invoice() (domain.Invoice, error) {
	inv := r.Invoice
	if err := json.Unmarshal(r.LinesJSON, &inv.Lines); err != nil {
		return inv, fmt.Errorf("decode invoice lines: %w", err)
	}
	return inv, nil
}

func loadInvoices(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]domain.Invoice, error) {
	var rows []invoiceRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+invoiceColumns+`
		FROM invoices WHERE `+where+` ORDER BY created_at, id`, args...); err != nil {
		return nil, fmt.Errorf("load invoices: %w", err)
	}
	out := make([]domain.Invoice, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.invoice(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// updateInvoice runs an UPDATE of one invoice returning invoiceColumns,
// and returns the invoice as it left it.
func updateInvoice(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (domain.Invoice, error) {
	var row invoiceRow
	if err := tx.GetContext(ctx, &row, query+` RETURNING `+invoiceColumns, args...); err != nil {
		return domain.Invoice{}, err
	}
	return row.invoice()
}

// AmendmentByIdempotencyKey finds the amendment an earlier request with the
// same key opened, with that request's hash.
func (s *Store) AmendmentByIdempotencyKey(ctx context.Context, sc Scope, key string) (domain.Amendment, string, error) {
	var row struct {
		ID   string `db:"id"`
		Hash string `db:"request_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT id, request_hash FROM amendments WHERE tenant_id = $1 AND idempotency_key = $2`, sc.TenantID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Amendment{}, "", ErrNotFound
	}
	if err != nil {
		return domain.Amendment{}, "", fmt.Errorf("look up idempotency key: %w", err)
	}
	am, err := s.Amendment(ctx, sc, row.ID)
	return am, row.Hash, err
}

// ContractAmendments lists a page of a contract's amendments, newest first,
// before the one after names (nil for the first page), and whether more
// follow: a contract changed thousands of times answered tens of megabytes
// in one list.
func (s *Store) ContractAmendments(ctx context.Context, tenantID, contractID string, after *ListCursor, pageSize int) ([]domain.Amendment, bool, error) {
	query := `SELECT ` + amendmentColumns + ` FROM amendments m JOIN contracts c ON c.id = m.contract_id
		WHERE m.tenant_id = $1 AND m.contract_id = $2`
	args := []any{tenantID, contractID}
	if after != nil {
		query += ` AND (m.created_at, m.id) < ($3, $4)`
		args = append(args, after.CreatedAt, after.ID)
	}
	args = append(args, pageSize+1)
	query += fmt.Sprintf(` ORDER BY m.created_at DESC, m.id DESC LIMIT $%d`, len(args))
	var rows []amendmentRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, false, fmt.Errorf("list amendments: %w", err)
	}
	rows, more := page(rows, pageSize)
	out := make([]domain.Amendment, len(rows))
	for i, r := range rows {
		am, err := r.amendment()
		if err != nil {
			return nil, false, err
		}
		out[i] = am
	}
	return out, more, nil
}
