package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// TermWatch is a contract term whose workflow is to be started: its end,
// and the days before it that its renewal opens.
type TermWatch struct {
	TenantID   string      `db:"tenant_id"`
	ContractID string      `db:"id"`
	Ref        int64       `db:"ref"`
	End        domain.Date `db:"expiration_date"`
	NoticeDays int         `db:"notice_days"`
	// TestClockID is the contract's test clock, if it lives on one.
	TestClockID *string `db:"test_clock_id"`
}

// termsDue selects the active contracts whose term's notice date has come
// by $1 (for AUTO_RENEW the end less noticeDays, else the end itself; see
// term_notice_date) and whose term workflow has not been started for that
// end: what the partial index contracts_terms_to_watch holds. An evergreen
// contract's term has no end to carry out. Each caller adds its own scope,
// so that every statement is planned for what it reads (one statement
// serving both would be planned for neither once prepared).
const termsDue = `
	SELECT tenant_id, id, ref, expiration_date, expiration_date - term_notice_date AS notice_days, test_clock_id
	FROM contracts
	WHERE status = 'active' AND renewal_mode <> 'EVERGREEN' AND term_watched IS DISTINCT FROM expiration_date
		AND term_notice_date <= $1`

// TermsToWatch lists a page of the terms due (see termsDue) of every
// tenant, in ref order after afterRef, and whether more follow: the daily
// sweep. The due terms are read from the partial index first: ordered by
// ref alone, Postgres would walk every contract to find the few due.
// Contracts on a test clock are left to their clock (ClockTermsToWatch).
func (s *Store) TermsToWatch(ctx context.Context, asOf domain.Date, afterRef int64, limit int) ([]TermWatch, bool, error) {
	return s.termsToWatch(ctx, limit, `WITH due AS MATERIALIZED (`+termsDue+` AND test_clock_id IS NULL)
		SELECT * FROM due WHERE ref > $2 ORDER BY ref LIMIT $3`, asOf, afterRef, limit+1)
}

// ClockTermsToWatch is TermsToWatch of the contracts on a test clock, as
// of its day: the terms sweep of one of its steps.
func (s *Store) ClockTermsToWatch(ctx context.Context, asOf domain.Date, clockID string, afterRef int64, limit int) ([]TermWatch, bool, error) {
	return s.termsToWatch(ctx, limit, termsDue+` AND test_clock_id = $2 AND ref > $3 ORDER BY ref LIMIT $4`, asOf, clockID, afterRef, limit+1)
}

// ContractTermsToWatch is TermsToWatch of the tenant's contractIDs: the
// contracts a contract action created, read by their ids.
func (s *Store) ContractTermsToWatch(ctx context.Context, asOf domain.Date, tenantID string, contractIDs []string, afterRef int64, limit int) ([]TermWatch, bool, error) {
	return s.termsToWatch(ctx, limit, termsDue+` AND tenant_id = $2 AND id = ANY($3::uuid[]) AND ref > $4 ORDER BY ref LIMIT $5`,
		asOf, tenantID, pq.Array(contractIDs), afterRef, limit+1)
}

func (s *Store) termsToWatch(ctx context.Context, limit int, query string, args ...any) ([]TermWatch, bool, error) {
	var rows []TermWatch
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, false, fmt.Errorf("list contract terms to watch: %w", err)
	}
	rows, more := page(rows, limit)
	return rows, more, nil
}

// MarkTermWatched records that the workflow of the term ending on end was
// started, so that later sweeps pass the contract by until its term moves.
func (s *Store) MarkTermWatched(ctx context.Context, tenantID, contractID string, end domain.Date) error {
	// Only while the term still ends there: a term that renewed meanwhile
	// has its next end recorded by its own workflow.
	if _, err := s.db.ExecContext(ctx, `UPDATE contracts SET term_watched = $3 WHERE tenant_id = $1 AND id = $2 AND expiration_date = $3`,
		tenantID, contractID, end); err != nil {
		return fmt.Errorf("mark the term of contract %s watched: %w", contractID, err)
	}
	return nil
}

// renewalIDSpace makes renewal amendment ids from their contract, term end
// and attempt, so that opening the same renewal twice names one amendment.
var renewalIDSpace = uuid.MustParse("5b0c1b8e-7f3e-4d61-9a52-2f1d3c6a7e90")

// RenewalToOpen says whether the renewal of the contract's term ending on
// end is to be opened now, and under which amendment id: the contract is
// active, auto-renews and still ends on end; no renewal of that end is
// open or applied; and no cancellation takes effect by then. reason says
// why not. A renewal that failed (a cancellation at the end of the term,
// withdrawn since) may be opened again, under a new id.
func (s *Store) RenewalToOpen(ctx context.Context, tenantID, contractID string, end domain.Date) (id, reason string, err error) {
	var row struct {
		Status     string      `db:"status"`
		Mode       string      `db:"renewal_mode"`
		Expiration domain.Date `db:"expiration_date"`
		Opened     bool        `db:"opened"`
		Failed     int         `db:"failed"`
		Cancelling bool        `db:"cancelling"`
	}
	err = s.db.GetContext(ctx, &row, `
		SELECT c.status, c.renewal_mode, c.expiration_date,
			EXISTS (SELECT 1 FROM amendments a WHERE a.contract_id = c.id AND a.action = 'RENEWAL' AND a.effective_date = $3 AND a.status <> 'FAILED') AS opened,
			(SELECT count(*) FROM amendments a WHERE a.contract_id = c.id AND a.action = 'RENEWAL' AND a.effective_date = $3 AND a.status = 'FAILED') AS failed,
			EXISTS (SELECT 1 FROM amendments a WHERE a.contract_id = c.id AND a.action = 'CANCELLATION' AND a.effective_date <= $3
				AND a.`+isOpen+`) AS cancelling
		FROM contracts c WHERE c.tenant_id = $1 AND c.id = $2`, tenantID, contractID, end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", ErrNotFound
	case err != nil:
		return "", "", fmt.Errorf("look up the renewal of contract %s: %w", contractID, err)
	case row.Status != domain.ContractActive || !row.Expiration.Equal(end):
		return "", "the term has ended already", nil
	case row.Mode != domain.AutoRenew:
		return "", "the contract does not auto-renew", nil
	case row.Opened:
		return "", "the renewal is open already", nil
	case row.Cancelling:
		return "", "the contract is cancelled by the end of its term", nil
	}
	key := fmt.Sprintf("%s/%s/%s/%d", tenantID, contractID, end, row.Failed)
	return uuid.NewSHA1(renewalIDSpace, []byte(key)).String(), "", nil
}
