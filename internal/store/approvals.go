package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/rules"
)

// PutApprovalRules replaces the tenant's ordered approval rules; at is the
// business time of the replacement, recorded as its updated_at.
func (s *Store) PutApprovalRules(ctx context.Context, tenantID, actorID string, list []rules.Rule, at time.Time) error {
	doc, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode approval rules: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO approval_rules (tenant_id, rules, updated_at, updated_by) VALUES ($1, $2, $4, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		tenantID, doc, actorID, at)
	if err != nil {
		return fmt.Errorf("store approval rules: %w", err)
	}
	return nil
}

// ApprovalRules returns the tenant's rules in order; none means no rule holds anything.
func (s *Store) ApprovalRules(ctx context.Context, tenantID string) ([]rules.Rule, error) {
	var doc []byte
	err := s.db.GetContext(ctx, &doc, `SELECT rules FROM approval_rules WHERE tenant_id = $1`, tenantID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load approval rules: %w", err)
	}
	return decodeApprovalRules(doc)
}

// decodeApprovalRules decodes a tenant's stored rules; none stored (nil) is
// none at all.
func decodeApprovalRules(doc []byte) ([]rules.Rule, error) {
	list := []rules.Rule{}
	if doc == nil {
		return list, nil
	}
	if err := json.Unmarshal(doc, &list); err != nil {
		return nil, fmt.Errorf("decode approval rules: %w", err)
	}
	return list, nil
}

// AmendmentSummary is one amendment in a listing such as the approvers' inbox.
type AmendmentSummary struct {
	ID             string              `db:"id"`
	ContractID     string              `db:"contract_id"`
	ContractNumber string              `db:"contract_number"`
	AccountNumber  string              `db:"account_number"`
	Action         domain.Action       `db:"action"`
	Status         string              `db:"status"`
	Quote          QuoteSummary        `db:"-"`
	MatchedRule    *domain.MatchedRule `db:"-"`
	SubmittedBy    string              `db:"submitted_by"`
	Source         string              `db:"source"`
	CreatedOn      time.Time           `db:"created_at"`
	ExpiresAt      *time.Time          `db:"review_expires_at"`
	AgeSeconds     int64               `db:"-"`
}

// QuoteSummary is what an approver sees of a quote at a glance.
type QuoteSummary struct {
	// The tags name the keys AmendmentsByStatus's query builds, which is
	// how the summary is read; the API shows its own view of it.
	Currency        string      `json:"currency"`
	EffectiveDate   domain.Date `json:"effectiveDate"`
	RecurringBefore int64       `json:"recurringBefore"`
	RecurringAfter  int64       `json:"recurringAfter"`
	RecurringDelta  int64       `json:"recurringDelta"`
	ProrationTotal  int64       `json:"prorationTotal"`
}

// ListCursor is the position after the last listed amendment.
type ListCursor struct {
	CreatedAt time.Time
	ID        string
}

// AmendmentsByStatus lists the scope's amendments in one status, oldest
// first, one page at a time (keyset pagination on (tenant, status, created_at,
// id)). The approvers' inbox is the REVIEW list.
func (s *Store) AmendmentsByStatus(ctx context.Context, sc Scope, status string, after *ListCursor, pageSize int, now time.Time) ([]AmendmentSummary, bool, error) {
	// Only the quote's summary leaves the database: whole quotes (lines
	// before and after) would multiply what a page reads and decodes.
	query := `SELECT m.id, m.contract_id, c.number AS contract_number, a.number AS account_number, m.action, m.status,
			jsonb_build_object('currency', m.quote->'currency', 'effectiveDate', m.quote->'effectiveDate',
				'recurringBefore', m.quote->'recurringBefore', 'recurringAfter', m.quote->'recurringAfter',
				'recurringDelta', m.quote->'recurringDelta', 'prorationTotal', m.quote->'prorationTotal') AS quote,
			m.matched_rule, m.submitted_by, m.source, m.created_at, m.review_expires_at,
			(SELECT t.frozen_time FROM test_clocks t WHERE t.id = c.test_clock_id) AS clock_time
		FROM ` + contractsAndAccounts + ` JOIN amendments m ON m.contract_id = c.id AND m.tenant_id = c.tenant_id
		WHERE m.tenant_id = $1 AND m.status = $2`
	args := []any{sc.TenantID, status}
	if after != nil {
		query += ` AND (m.created_at, m.id) > ($3, $4)`
		args = append(args, after.CreatedAt, after.ID)
	}
	query, args = sc.filter(query, args)
	args = append(args, pageSize+1)
	query += fmt.Sprintf(` ORDER BY m.created_at, m.id LIMIT $%d`, len(args))
	var rows []struct {
		AmendmentSummary
		QuoteJSON []byte `db:"quote"`
		RuleJSON  []byte `db:"matched_rule"`
		// The contract's test clock's time, if it lives on one: its
		// amendments age on that clock.
		ClockTime *time.Time `db:"clock_time"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, false, fmt.Errorf("list %s amendments: %w", status, err)
	}
	rows, more := page(rows, pageSize)
	out := make([]AmendmentSummary, len(rows))
	for i, r := range rows {
		item := r.AmendmentSummary
		if err := json.Unmarshal(r.QuoteJSON, &item.Quote); err != nil {
			return nil, false, fmt.Errorf("decode quote: %w", err)
		}
		if len(r.RuleJSON) > 0 {
			item.MatchedRule = &domain.MatchedRule{}
			if err := json.Unmarshal(r.RuleJSON, item.MatchedRule); err != nil {
				return nil, false, fmt.Errorf("decode matched rule: %w", err)
			}
		}
		item.AgeSeconds = int64(onClock(r.ClockTime, now).Sub(item.CreatedOn).Seconds())
		out[i] = item
	}
	return out, more, nil
}
