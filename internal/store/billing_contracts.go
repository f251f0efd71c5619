package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// BillingContract is what billing reads of a contract.
type BillingContract struct {
	ID             string
	Ref            int64
	Currency       string
	ScheduleStatus string
	Lines          []domain.Line
	Terms          domain.BillingTerms
	// Version is the contract's version as read: one for a contract never
	// changed, whose lines have been its lines all along.
	Version int64
	// State is what its invoices depend on as read (billingState).
	State string
}

// billingState is, as one text, what of a contract its invoices depend on:
// its lines (by their version), its status, schedule and term. An invoice
// priced at one state is issued only while the contract is still in it.
const billingState = `row(c.version, c.status, c.currency, c.schedule_status, c.schedule_resumes_on, c.effective_date,
	c.expiration_date, c.term_start, c.renewal_mode, c.billing_cycle_day, c.billing_period)::text`

// billedThrough is, for the contract c, the end of its latest period
// invoiced: it is billed up to that day (domain.BillingTerms.BilledThrough).
const billedThrough = `(SELECT i.period_end FROM invoices i
	WHERE i.tenant_id = c.tenant_id AND i.contract_id = c.id AND i.kind = 'RECURRING'
	ORDER BY i.period_start DESC LIMIT 1)`

// SegmentLines are the lines a contract carried from a date on: one of its
// segments that took effect.
type SegmentLines struct {
	ContractID string        `db:"contract_id"`
	Effective  domain.Date   `db:"effective_date"`
	LinesJSON  []byte        `db:"lines"`
	Lines      []domain.Line `db:"-"`
}

// SegmentHistories reads the segments that took effect of the tenant's
// contracts named, oldest first, keyed by contract: what a billing run
// prices the periods of a changed contract with.
func (s *Store) SegmentHistories(ctx context.Context, tenantID string, contractIDs []string) (map[string][]SegmentLines, error) {
	var rows []SegmentLines
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT contract_id, effective_date, lines FROM contract_segments
		WHERE tenant_id = $1 AND contract_id = ANY($2::uuid[]) AND status <> $3
		ORDER BY contract_id, position`, tenantID, pq.Array(contractIDs), domain.SegmentSuperseded); err != nil {
		return nil, fmt.Errorf("read segment histories: %w", err)
	}
	out := make(map[string][]SegmentLines, len(contractIDs))
	for _, r := range rows {
		if err := json.Unmarshal(r.LinesJSON, &r.Lines); err != nil {
			return nil, fmt.Errorf("decode lines of a segment of contract %s: %w", r.ContractID, err)
		}
		r.LinesJSON = nil
		out[r.ContractID] = append(out[r.ContractID], r)
	}
	return out, nil
}

// billableContracts is where a billing run as of $2 finds the tenant's ($1)
// contracts to bill: the active ones in effect, and the expired ones whose
// last period, the one ending on their expiration date, was not invoiced (a
// run as of a day before the term ended, or one that did not run then), so
// that nothing the term covered goes unbilled and nothing after it is. An
// expired contract whose schedule is Terminated has nothing left to bill:
// a Terminated schedule's periods are never billed, and it can no longer be
// restarted. The invoice lookup runs for expired contracts only.
const billableContracts = `
	FROM contracts c
	WHERE c.tenant_id = $1 AND c.effective_date <= $2
		AND (c.status = $3 OR (c.status = $4 AND c.schedule_status = $5 AND NOT EXISTS (
			SELECT 1 FROM invoices i
			WHERE i.contract_id = c.id AND i.kind = 'RECURRING' AND i.period_end >= c.expiration_date)))
		AND c.test_clock_id IS NOT DISTINCT FROM $6::uuid`

// billableArgs are the arguments of billableContracts: a run of the
// contracts on the test clock clockID, or of those on the wall clock when
// it is nil.
func billableArgs(tenantID string, clockID *string, asOf domain.Date) []any {
	return []any{tenantID, asOf, domain.ContractActive, domain.ContractExpired, domain.ScheduleActive, clockID}
}

// CountBillingContracts counts the contracts BillingContracts pages
// through for a run as of asOf.
func (s *Store) CountBillingContracts(ctx context.Context, tenantID string, clockID *string, asOf domain.Date) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*)`+billableContracts, billableArgs(tenantID, clockID, asOf)...); err != nil {
		return 0, fmt.Errorf("count contracts to bill: %w", err)
	}
	return n, nil
}

// BillingContracts returns a page of the contracts to bill as of asOf (see
// billableContracts), in ref order after afterRef, and whether more follow.
func (s *Store) BillingContracts(ctx context.Context, tenantID string, clockID *string, asOf domain.Date, afterRef int64, limit int) ([]BillingContract, bool, error) {
	return billingContracts(ctx, s.db, tenantID, clockID, asOf, afterRef, limit)
}

func billingContracts(ctx context.Context, q sqlx.QueryerContext, tenantID string, clockID *string, asOf domain.Date, afterRef int64, limit int) ([]BillingContract, bool, error) {
	var rows []struct {
		ID             string               `db:"id"`
		Ref            int64                `db:"ref"`
		Status         string               `db:"status"`
		Currency       string               `db:"currency"`
		ScheduleStatus string               `db:"schedule_status"`
		LinesJSON      []byte               `db:"lines"`
		EffectiveDate  domain.Date          `db:"effective_date"`
		ExpirationDate domain.Date          `db:"expiration_date"`
		TermStart      domain.Date          `db:"term_start"`
		RenewalMode    string               `db:"renewal_mode"`
		CycleDay       int                  `db:"billing_cycle_day"`
		Period         domain.BillingPeriod `db:"billing_period"`
		ResumesOn      domain.Date          `db:"schedule_resumes_on"`
		BilledThrough  domain.Date          `db:"billed_through"`
		Version        int64                `db:"version"`
		State          string               `db:"state"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT c.id, c.ref, c.status, c.currency, c.schedule_status, c.lines, c.effective_date, c.expiration_date,
			c.term_start, c.renewal_mode, c.billing_cycle_day, c.billing_period, c.schedule_resumes_on, c.version,
			`+billingState+` AS state, `+billedThrough+` AS billed_through`+billableContracts+`
			AND c.ref > $7
		ORDER BY c.ref LIMIT $8`, append(billableArgs(tenantID, clockID, asOf), afterRef, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("list contracts to bill: %w", err)
	}
	rows, more := page(rows, limit)
	out := make([]BillingContract, len(rows))
	for i, r := range rows {
		out[i] = BillingContract{
			ID: r.ID, Ref: r.Ref, Currency: r.Currency, ScheduleStatus: r.ScheduleStatus, Version: r.Version, State: r.State,
			Terms: domain.BillingTerms{
				EffectiveDate: r.EffectiveDate, ExpirationDate: r.ExpirationDate, CycleDay: r.CycleDay, Period: r.Period,
				TermStart: r.TermStart, ResumesOn: r.ResumesOn, BilledThrough: r.BilledThrough,
				// An expired contract bills nothing past its end, whatever
				// its terms said.
				Evergreen: r.RenewalMode == domain.Evergreen && r.Status == domain.ContractActive,
			},
		}
		if err := json.Unmarshal(r.LinesJSON, &out[i].Lines); err != nil {
			return nil, false, fmt.Errorf("decode lines of contract %s: %w", r.ID, err)
		}
	}
	return out, more, nil
}
