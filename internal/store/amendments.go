package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/rules"
)

// NewAmendment is what opening an amendment records.
type NewAmendment struct {
	ID             string
	TenantID       string
	ContractID     string // uuid
	Action         domain.Action
	Request        json.RawMessage
	RequestHash    string
	IdempotencyKey string
	WorkflowID     string
	ActorID        string
	Source         string
	// Change is the request as the domain reads it, kept to price the
	// amendment again when the contract's timeline moves under it.
	Change domain.Change
}

// Plan is a priced change and where it starts: its first status, and for a
// change held for review, the rule that held it and when the review expires.
type Plan struct {
	Quote           domain.Quote
	Status          string
	MatchedRule     *domain.MatchedRule
	ReviewExpiresAt *time.Time
	// ApplyNow applies a PENDING change in the same transaction as it is
	// recorded, which saves its workflow a second step.
	ApplyNow bool
}

// Planner validates and prices a change against what the transaction that
// holds the contract's lock reads.
type Planner func(PlanBasis) (Plan, error)

// PlanBasis is what a change is planned on: the locked contract, its
// timeline (its open amendments in the order they will apply), the tenant's
// catalog (shared: see catalogCache) and approval rules in order, and the
// contract's early-termination charges.
type PlanBasis struct {
	Contract domain.Contract
	Timeline []domain.Pending
	Catalog  domain.Catalog
	Rules    []rules.Rule
	Charges  []domain.TerminationCharge
}

// Opened is an amendment as opening it recorded it, the contract's terms as
// the change found them (without segments and schedule history), the
// contract's version after it (one more when Plan.ApplyNow applied it), and
// whether the timeline changed other amendments, whose workflows are then
// to be told (see TellRebased).
type Opened struct {
	Amendment       domain.Amendment
	Contract        domain.Contract
	ContractVersion int64
	Rebased         bool
}

// OpenAmendment locks the contract, plans the change against its timeline
// and records the amendment with its first status, in one transaction; then,
// when other amendments are open, prices them again. Opening the same
// amendment id again returns it unchanged.
func (s *Store) OpenAmendment(ctx context.Context, in NewAmendment, now time.Time, plan Planner) (Opened, error) {
	var out Opened
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var ann announcements
		moved, err := s.openLocked(ctx, tx, in, now, plan, &out, &ann)
		if err != nil {
			return err
		}
		if moved {
			if out.Rebased, err = rebaseLocked(ctx, tx, in.TenantID, out.Contract.ID, now, &ann); err != nil {
				return err
			}
		}
		return ann.append(ctx, tx)
	})
	return out, err
}

// openLocked records the amendment (and applies it, when planned so) under
// the contract's lock, which it takes. It reports whether the contract's
// other open amendments are to be priced again: there are some, and the new
// one is part of the contract's future. ann gathers what it announces.
// Long: the steps of one transaction, in order.
func (s *Store) openLocked(ctx context.Context, tx *sqlx.Tx, in NewAmendment, now time.Time, plan Planner, out *Opened, ann *announcements) (bool, error) {
	locked, err := lockForOpening(ctx, tx, in.TenantID, in.ContractID, in.ID)
	if err != nil {
		return false, err
	}
	ct, timeline := locked.lockedContract, locked.timeline
	now = ct.Now(now)
	out.Contract, out.ContractVersion = ct.Contract, ct.Version
	if locked.opened {
		// Opened already (this is a retry): the first attempt's re-pricing
		// may still wait to be told.
		if out.Amendment, err = loadAmendment(ctx, tx, in.TenantID, in.ID); err != nil {
			return false, err
		}
		out.Rebased, err = rebasePending(ctx, tx, ct.ID)
		return false, err
	}
	if err := refuseOnTimeline(ct.Contract, in.Action, timeline); err != nil {
		return false, err
	}
	p, err := s.planLocked(ctx, tx, in.TenantID, locked, plan)
	if err != nil {
		return false, err
	}
	moved := len(timeline) > 0 && p.Status != domain.StatusReview
	// An immediate change applies at once unless an earlier one, due today
	// too, is still on its way: then its workflow applies it after that one.
	applyNow := p.Status == domain.StatusPending && p.ApplyNow && p.Quote.BaseVersion == ct.Version && !atTermEnd(ct.Contract, p.Quote)
	quote, recorded, err := insertAmendment(ctx, tx, in, ct, p, applyNow, now)
	if err != nil {
		return false, err
	}
	if ct.TestClockID != nil {
		// Its workflow is on its way: an advance of the clock waits for it.
		if err := holdClock(ctx, tx, *ct.TestClockID, in.WorkflowID); err != nil {
			return false, err
		}
	}
	if applyNow {
		rec := recordedAmendment{TenantID: in.TenantID, ID: in.ID, Quote: quote, SubmittedBy: in.ActorID, inserted: &recorded}
		applied, err := applyLocked(ctx, tx, ct, rec, in.event(domain.StatusApplied, now), ann)
		out.Amendment, out.ContractVersion = applied.Amendment, applied.ContractVersion
		return moved, err
	}
	out.Amendment = recorded
	ann.add(openedEvents(in.TenantID, out.Amendment, now)...)
	return moved, nil
}

// event is a step of the new amendment's history taken by its submitter.
func (in NewAmendment) event(status string, at time.Time) domain.AmendmentEvent {
	return domain.AmendmentEvent{Status: status, ActorID: in.ActorID, Source: in.Source, At: at}
}

// openingHistory is the statuses a new amendment's history starts with, all
// its submitter's and at the time it is opened: PENDING, and then the status
// it was recorded with when that is another one (APPLIED when applied as it
// is opened).
func openingHistory(status string, applied bool) []string {
	if applied {
		status = domain.StatusApplied
	}
	if status == domain.StatusPending {
		return []string{status}
	}
	return []string{domain.StatusPending, status}
}

// planLocked plans a change against the locked contract, its timeline and
// the tenant's approval rules as the lock's statement read them, the
// tenant's catalog (decoded once per version) and the contract's
// early-termination charges.
func (s *Store) planLocked(ctx context.Context, tx *sqlx.Tx, tenantID string, locked openingLock, plan Planner) (Plan, error) {
	cat, err := s.catalogs.loadAt(ctx, tx, tenantID, locked.catalogVersion)
	if err != nil {
		return Plan{}, err
	}
	charges, err := contractTerminationCharges(ctx, tx, tenantID, locked.Contract)
	if err != nil {
		return Plan{}, err
	}
	return plan(PlanBasis{Contract: locked.Contract, Timeline: locked.timeline, Catalog: cat, Rules: locked.rules, Charges: charges})
}

// insertAmendment records the amendment's row with its first status, its
// quote and its change, and the history that led to that status (see
// openingHistory), and gives it its place in the contract's order unless it
// is held for review. It returns the quote as recorded and the amendment as
// a read would now show it (no invoice yet). A second
// open cancellation is a conflict naming the first. An amendment the same
// transaction applies (applied) is recorded APPLIED at once: a row inserted
// PENDING and then updated would be written twice, with all its indexes.
// Long: one statement (the row with every column, its history, the row as
// read), and the conflicts it can meet.
func insertAmendment(ctx context.Context, tx *sqlx.Tx, in NewAmendment, ct lockedContract, p Plan, applied bool, now time.Time) (domain.Quote, domain.Amendment, error) {
	quote := p.Quote
	quote.ID, quote.Status = in.ID, p.Status
	status := p.Status
	if applied {
		status = domain.StatusApplied
	}
	quoteJSON, err := json.Marshal(quote)
	if err != nil {
		return quote, domain.Amendment{}, fmt.Errorf("encode quote: %w", err)
	}
	changeJSON, err := json.Marshal(in.Change)
	if err != nil {
		return quote, domain.Amendment{}, fmt.Errorf("encode change: %w", err)
	}
	var ruleJSON []byte
	if p.MatchedRule != nil {
		if ruleJSON, err = json.Marshal(p.MatchedRule); err != nil {
			return quote, domain.Amendment{}, fmt.Errorf("encode matched rule: %w", err)
		}
	}
	var idemKey *string
	if in.IdempotencyKey != "" {
		idemKey = &in.IdempotencyKey
	}
	// The place in the order is taken by the same statement (the contract's
	// timeline_seq, counted up only for an amendment that takes one), and
	// the history that led to its first status is written with the row, in
	// order (the events' ids follow the ordinality). The statement answers
	// with the amendment as a read would show it, from what it inserted: a
	// read in the same statement would not see those rows.
	am, err := getAmendment(ctx, tx, `
		WITH place AS (UPDATE contracts SET timeline_seq = timeline_seq + 1 WHERE id = $3 AND $19 RETURNING timeline_seq),
		m AS (
			INSERT INTO amendments (id, tenant_id, contract_id, action, status, effective_date, base_version, quote, request,
				request_hash, idempotency_key, workflow_id, source, submitted_by, matched_rule, review_expires_at, created_at, updated_at,
				change, timeline_seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, (SELECT timeline_seq FROM place))
			RETURNING *),
		e AS (
			INSERT INTO amendment_events (amendment_id, status, actor_id, source, at)
			SELECT m.id, h.status, $21, $13, $17 FROM m, unnest($20::text[]) WITH ORDINALITY AS h (status, n) ORDER BY h.n
			RETURNING *)
		SELECT `+amendmentColumns+`, (SELECT json_agg(`+amendmentEventJSON+` ORDER BY e.id) FROM e) AS history
		FROM m JOIN contracts c ON c.id = m.contract_id`,
		in.ID, in.TenantID, ct.ID, in.Action, status, quote.EffectiveDate, quote.BaseVersion, quoteJSON, []byte(in.Request),
		in.RequestHash, idemKey, in.WorkflowID, in.Source, in.ActorID, ruleJSON, p.ReviewExpiresAt, now, changeJSON,
		p.Status != domain.StatusReview, pq.StringArray(openingHistory(p.Status, applied)), in.ActorID)
	if isUniqueViolation(err, "amendments_one_open_cancellation") {
		// refuseOnTimeline names it; this holds should another path forget.
		return quote, am, domain.Errorf(domain.KindConflict, "action", "contract %s already has an open cancellation", ct.Number)
	}
	if err != nil {
		return quote, am, fmt.Errorf("insert amendment: %w", err)
	}
	return quote, am, nil
}

// lockedContract is a contract held for a change: its terms, the segment
// the change supersedes (none for a contract without segments) and the
// version of its tenant's catalog when the lock was taken (none without one).
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

// lockContract locks a contract's row and reads what a change needs. The
// current segment, the latest billed period and the catalog's version are
// read by a statement of their own, after the lock is held: a statement that waited for the lock
// still reads with the snapshot it started with, and would miss the segment
// the previous holder wrote, or the invoice a billing run (which holds the
// contract's share lock while it issues it) inserted.
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
		now, err := shareClock(ctx, tx, *ct.TestClockID)
		if err != nil {
			return openingLock{}, err
		}
		ct.ClockTime = &now
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
	CatalogVersion *string      `db:"catalog_version"`
	SegmentID      *string      `db:"id"`
	PlanID         *string      `db:"plan_id"`
	EffectiveDate  *domain.Date `db:"effective_date"`
}

// locked is the locked contract whose terms are ct, as r completes it.
func (r afterLockRow) locked(ct domain.Contract) lockedContract {
	ct.LastBilled = r.LastBilled
	locked := lockedContract{Contract: ct, catalogVersion: r.CatalogVersion}
	if r.SegmentID != nil {
		locked.current = &segmentRef{ID: *r.SegmentID, PlanID: *r.PlanID, EffectiveDate: *r.EffectiveDate}
	}
	return locked
}

// afterLock reads, in one statement, the start of a contract ($1)'s latest
// billed period, the version of its tenant ($2)'s catalog and its current
// segment (NULLs for a contract without segments).
const afterLock = `SELECT ` + afterLockColumns + afterLockFrom

const (
	afterLockColumns = `(SELECT max(period_start) FROM invoices WHERE contract_id = $1 AND kind = 'RECURRING') AS last_billed,
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

// contractTerminationCharges loads the period charges of the contract's
// early-termination definition; none when it has no definition.
func contractTerminationCharges(ctx context.Context, q sqlx.QueryerContext, tenantID string, ct domain.Contract) ([]domain.TerminationCharge, error) {
	if ct.ContractTerminationID == nil {
		return nil, nil
	}
	byTermination, err := loadCharges(ctx, q, tenantID, []int64{*ct.ContractTerminationID})
	if err != nil {
		return nil, err
	}
	return byTermination[*ct.ContractTerminationID], nil
}

// ContractTerminationCharges is contractTerminationCharges outside a transaction.
func (s *Store) ContractTerminationCharges(ctx context.Context, tenantID string, ct domain.Contract) ([]domain.TerminationCharge, error) {
	return contractTerminationCharges(ctx, s.db, tenantID, ct)
}

// isOpen is the condition that an amendment is open, with the statuses
// named literally, as the partial indexes on open amendments name them:
// with them as a parameter, Postgres cannot plan a lookup once for all
// contracts on those indexes.
var isOpen = func() string {
	quoted := make([]string, len(domain.OpenStatuses))
	for i, st := range domain.OpenStatuses {
		quoted[i] = pq.QuoteLiteral(st)
	}
	return `status IN (` + strings.Join(quoted, ", ") + `)`
}()
