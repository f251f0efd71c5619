package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/rules"
)

// A change takes its tenant catalog's advisory lock shared and its
// contract's lock first, in one statement, then reads what it is planned with in a
// statement of its own, which sees what the locks' previous holders
// committed: the contract's last change, and a catalog replacement.

// lockedContract is a contract held for a change: its terms, the segment
// the change supersedes (none for a contract without segments) and the
// version of its tenant's catalog when the lock was taken (none without
// one), which stays the catalog's until the transaction ends: it holds the
// catalog's advisory lock shared (see catalog_lock.go).
type lockedContract struct {
	domain.Contract
	current        *segmentRef
	catalogVersion *string
}

// segmentRef is what a new segment takes from the one it supersedes.
type segmentRef struct {
	ID            string
	PlanID        string
	EffectiveDate domain.Date
}

// lockContract locks a contract's row, and its tenant catalog's advisory
// lock shared before it, and reads what a change needs. The current segment, the latest
// billed period and the catalog's version are read by a statement of their
// own, after the locks are held: a statement that waited for a lock still
// reads with the snapshot it started with, and would miss the segment the
// previous holder wrote, or the invoice a billing run (which holds the
// contract's share lock while it issues it) inserted, or the catalog a
// replacement stored.
// The current segment is the chain's tip (its last position), never the one
// created last: a change's time is taken before it waits for the lock, so
// creation times need not follow the order changes were applied in.
func lockContract(ctx context.Context, tx *sqlx.Tx, tenantID, key string) (lockedContract, error) {
	var after afterLockRow
	ct, err := lockReading(ctx, tx, tenantID, key, &after, afterLock)
	if err != nil {
		return lockedContract{}, err
	}
	return after.locked(ct), nil
}

// openingLock is a contract locked for a new amendment: whether the
// amendment is recorded already (a retry), the contract's timeline and the
// tenant's approval rules.
type openingLock struct {
	lockedContract
	opened   bool
	timeline []domain.Pending
	rules    []rules.Rule
}

// lockForOpening is lockContract for a new amendment id: the statement after
// the lock also reads the rest of openingLock.
func lockForOpening(ctx context.Context, tx *sqlx.Tx, tenantID, key, id string) (openingLock, error) {
	var after struct {
		afterLockRow
		Opened   bool   `db:"opened"`
		Timeline []byte `db:"timeline"`
		Rules    []byte `db:"approval_rules"`
	}
	ct, err := lockReading(ctx, tx, tenantID, key, &after, afterOpeningLock, id)
	if err != nil {
		return openingLock{}, err
	}
	if ct.TestClockID != nil {
		// The opening holds the clock for its workflow: its time is read
		// again, shared, so that an advance cannot step past it meanwhile.
		clock, err := shareClock(ctx, tx, *ct.TestClockID)
		if err != nil {
			return openingLock{}, err
		}
		if clock.Advancing {
			// Before anything is written (test_clock_budget.go).
			if err := lockClockWork(ctx, tx, tenantID); err != nil {
				return openingLock{}, err
			}
		}
		ct.ClockTime = &clock.Now
	}
	locked := openingLock{lockedContract: after.locked(ct), opened: after.Opened}
	if locked.timeline, err = decodeTimeline(after.Timeline); err != nil {
		return openingLock{}, err
	}
	locked.rules, err = decodeApprovalRules(after.Rules)
	return locked, err
}

// lockReading locks the contract, returning its terms, and then reads query
// (afterLock's columns, and more) into after: query's $1 is the contract's
// id, $2 its tenant, and args the rest.
func lockReading(ctx context.Context, tx *sqlx.Tx, tenantID, key string, after any, query string, args ...any) (domain.Contract, error) {
	ct, err := loadTerms(ctx, tx, tenantID, key, true)
	if err != nil {
		return ct, err
	}
	if err := tx.GetContext(ctx, after, query, append([]any{ct.ID, tenantID}, args...)...); err != nil {
		return ct, fmt.Errorf("read what a change needs after the contract's lock (its current segment, latest billed period, catalog version and more): %w", err)
	}
	return ct, nil
}

// afterLockRow is what afterLock reads.
type afterLockRow struct {
	LastBilled     domain.Date  `db:"last_billed"`
	BilledThrough  domain.Date  `db:"billed_through"`
	CatalogVersion *string      `db:"catalog_version"`
	SegmentID      *string      `db:"id"`
	PlanID         *string      `db:"plan_id"`
	EffectiveDate  *domain.Date `db:"effective_date"`
}

// locked is the locked contract whose terms are ct, as r completes it.
func (r afterLockRow) locked(ct domain.Contract) lockedContract {
	ct.LastBilled, ct.BilledThrough = r.LastBilled, r.BilledThrough
	locked := lockedContract{Contract: ct, catalogVersion: r.CatalogVersion}
	if r.SegmentID != nil {
		locked.current = &segmentRef{ID: *r.SegmentID, PlanID: *r.PlanID, EffectiveDate: *r.EffectiveDate}
	}
	return locked
}

// afterLock reads, in one statement, the start and end of a contract
// ($1)'s latest billed period, the version of its tenant ($2)'s catalog and its current
// segment (NULLs for a contract without segments).
const afterLock = `SELECT ` + afterLockColumns + afterLockFrom

const (
	afterLockColumns = `(SELECT max(period_start) FROM invoices WHERE contract_id = $1 AND kind = 'RECURRING') AS last_billed,
		(SELECT period_end FROM invoices WHERE contract_id = $1 AND kind = 'RECURRING' ORDER BY period_start DESC LIMIT 1) AS billed_through,
		(SELECT version FROM catalogs WHERE tenant_id = $2) AS catalog_version, tip.id, tip.plan_id, tip.effective_date`
	afterLockFrom = `
	FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT id, plan_id, effective_date FROM contract_segments
		WHERE contract_id = $1 ORDER BY position DESC LIMIT 1) AS tip ON true`
)

// afterOpeningLock is afterLock with whether amendment $3 is recorded, the
// contract's timeline and the tenant's approval rules.
var afterOpeningLock = `SELECT ` + afterLockColumns + `,
		EXISTS (SELECT 1 FROM amendments WHERE tenant_id = $2 AND id = $3) AS opened,
		` + openTimeline("$1") + ` AS timeline,
		(SELECT rules FROM approval_rules WHERE tenant_id = $2) AS approval_rules` + afterLockFrom
