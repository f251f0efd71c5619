package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// contractColumns are what a contract read selects: the row (with the day
// its schedule resumed from, which pricing reads to know what billing will
// invoice), the time of its test clock if it lives on one, and the start
// and end of its latest billed period.
const contractColumns = `c.id, c.number, c.ref, a.number AS account_number, c.account_id, c.status, c.effective_date,
	c.expiration_date, c.currency, c.billing_period, c.billing_cycle_day, c.payment_method, c.viewing_card_number,
	c.protected, c.contract_termination_id, c.discount, c.referrer, c.lines, c.schedule_status, c.schedule_in_arrears,
	c.schedule_resumes_on, c.version,
	c.created_at, c.updated_at, c.created_by, c.updated_by, COALESCE(c.term_start, c.effective_date) AS term_start,
	c.renewal_mode, c.renewal_term_months, c.renewal_uplift_bp, c.renewal_notice_days, c.test_clock_id,
	(SELECT t.frozen_time FROM test_clocks t WHERE t.id = c.test_clock_id) AS clock_time,
	(SELECT max(i.period_start) FROM invoices i WHERE i.contract_id = c.id AND i.kind = 'RECURRING') AS last_billed,
	(SELECT i.period_end FROM invoices i WHERE i.contract_id = c.id AND i.kind = 'RECURRING' ORDER BY i.period_start DESC LIMIT 1) AS billed_through`

type contractRow struct {
	domain.Contract
	LinesJSON      []byte      `db:"lines"`
	DiscountJSON   []byte      `db:"discount"`
	ScheduleStatus string      `db:"schedule_status"`
	InArrears      bool        `db:"schedule_in_arrears"`
	ResumesOn      domain.Date `db:"schedule_resumes_on"`
	HistoryCount   int64       `db:"schedule_history_count"`
	RenewalMode    string      `db:"renewal_mode"`
	TermMonths     int         `db:"renewal_term_months"`
	UpliftBP       int         `db:"renewal_uplift_bp"`
	NoticeDays     int         `db:"renewal_notice_days"`
}

func (r contractRow) contract() (domain.Contract, error) {
	c := r.Contract
	if err := json.Unmarshal(r.LinesJSON, &c.Lines); err != nil {
		return c, fmt.Errorf("decode contract lines: %w", err)
	}
	if len(r.DiscountJSON) > 0 {
		c.Discount = &domain.AppliedDiscount{}
		if err := json.Unmarshal(r.DiscountJSON, c.Discount); err != nil {
			return c, fmt.Errorf("decode contract discount: %w", err)
		}
	}
	c.RecurringAmount = domain.DisplayedRecurringTotal(c.Lines)
	c.Renewal = domain.RenewalTerms{Mode: r.RenewalMode, TermMonths: r.TermMonths, UpliftBasisPoints: r.UpliftBP, NoticeDays: r.NoticeDays}
	c.PaymentSchedule.Status, c.PaymentSchedule.InArrears, c.PaymentSchedule.ResumesOn = r.ScheduleStatus, r.InArrears, r.ResumesOn
	c.PaymentSchedule.HistoryCount = r.HistoryCount
	return c, nil
}

// ContractKey says how a client named a contract: its uuid, CT- number or numeric ref.
func contractKeyClause(key string) (string, any) {
	if id, ok := canonicalID(key); ok {
		return "c.id = $2", id
	}
	if ref, err := strconv.ParseInt(key, 10, 64); err == nil {
		return "c.ref = $2", ref
	}
	return "c.number = $2", strings.ToUpper(key)
}

// Contract loads one of the scope's contracts, with its newest segments
// (SegmentsShown; SegmentCount says how many it has) and its schedule
// history. key is the uuid, the CT- number or the numeric ref. The
// segments come in part from what the process holds (segmentCache): callers
// must not modify their lines, currency or predecessor's id.
func (s *Store) Contract(ctx context.Context, sc Scope, key string) (domain.Contract, error) {
	return sc.visible(s.segments.loadContract(ctx, s.db, sc.TenantID, key))
}

// ContractTerms loads one of the scope's contracts without its segments and
// schedule history: what pricing a change reads.
func (s *Store) ContractTerms(ctx context.Context, sc Scope, key string) (domain.Contract, error) {
	return sc.visible(loadTerms(ctx, s.db, sc.TenantID, key, false))
}

// ChangeBasis is what a change to a contract is priced on outside its
// workflow: the contract's terms, its tenant's catalog and the contract's
// open amendments in the order they will apply.
type ChangeBasis struct {
	Contract domain.Contract
	Catalog  domain.Catalog
	Timeline []domain.Pending
}

// ContractChangeBasis reads a contract of the scope with what pricing a
// change to it needs, in one statement: the catalog is read again only when
// the version that statement saw is not the one held. The catalog is shared
// (see catalogCache): it must not be modified.
func (s *Store) ContractChangeBasis(ctx context.Context, sc Scope, key string) (ChangeBasis, error) {
	var row struct {
		contractRow
		CatalogVersion *string `db:"catalog_version"`
		Timeline       []byte  `db:"timeline"`
	}
	err := getContract(ctx, s.db, &row, contractColumns+`,
		(SELECT k.version FROM catalogs k WHERE k.tenant_id = c.tenant_id) AS catalog_version,
		`+openTimeline("c.id")+` AS timeline`, sc.TenantID, key, "")
	if err != nil {
		return ChangeBasis{}, err
	}
	var b ChangeBasis
	if b.Contract, err = sc.visible(row.contract()); err != nil {
		return ChangeBasis{}, err
	}
	if b.Timeline, err = decodeTimeline(row.Timeline); err != nil {
		return ChangeBasis{}, err
	}
	b.Catalog, err = s.catalogs.loadAt(ctx, s.db, sc.TenantID, row.CatalogVersion)
	return b, err
}

// SegmentsShown is how many of a contract's segments a read of the
// contract holds: the newest, in chain order. Every applied change adds a
// segment, and every answer to a change shows its contract, so a contract
// changed a thousand times would otherwise answer each change with a
// thousand segments; its whole chain is read a page at a time
// (ContractSegments).
const SegmentsShown = 20

// segmentObject spells segment s of contract c (on account a) as
// domain.Segment encodes it.
const segmentObject = `json_build_object('id', s.id, 'previousContractSegmentId', s.previous_segment_id,
	'accountNumber', a.number, 'contractNumber', c.number, 'effectiveDate', s.effective_date,
	'expirationDate', s.expiration_date, 'currency', json_build_array(s.currency), 'planId', s.plan_id,
	'billingCycleDay', s.billing_cycle_day, 'billingCycleType', s.billing_cycle_type, 'status', s.status,
	'lines', s.lines, 'createdOn', s.created_at, 'updatedOn', s.updated_at, 'createdBy', s.created_by,
	'updatedBy', s.updated_by)`

// segmentCount counts contract c's segments: a segment's position is one
// past its predecessor's, from 1, and the newest is found on the index of
// positions.
const segmentCount = `COALESCE((SELECT max(n.position) FROM contract_segments n WHERE n.contract_id = c.id), 0) AS segment_count`

// ScheduleHistoryShown is how many of a contract's schedule events a read
// of the contract holds: the newest, oldest first. Every cancel and restart
// of its schedule adds one, so a schedule stopped and started a thousand
// times would otherwise show a thousand events in every answer that shows
// its contract; ContractScheduleHistory lists them all a page at a time.
const ScheduleHistoryShown = 20

// scheduleEventObject spells schedule event e as domain.ScheduleEvent
// encodes it.
const scheduleEventObject = `json_build_object('status', e.status, 'comment', e.comment, 'actorId', e.actor_id,
	'source', e.source, 'at', e.at)`

// contractHistory reads a contract's newest $4 segments after position $3,
// how many it has, its newest $5 schedule events and how many it has, the
// lists as JSON arrays spelt as domain.Segment and domain.ScheduleEvent
// encode, so that a contract loads in one statement.
const contractHistory = `,
	COALESCE((SELECT json_agg(` + segmentObject + ` ORDER BY s.position)
		FROM (SELECT * FROM contract_segments n WHERE n.contract_id = c.id AND n.position > $3
			ORDER BY n.position DESC LIMIT $4) s), '[]') AS segments,
	` + segmentCount + `,
	COALESCE((SELECT json_agg(` + scheduleEventObject + ` ORDER BY e.position)
		FROM (SELECT * FROM schedule_events n WHERE n.contract_id = c.id ORDER BY n.position DESC LIMIT $5) e), '[]') AS schedule_history,
	` + scheduleHistoryCount

// scheduleHistoryCount counts contract c's schedule events: as a
// segment's, an event's position is one past the one before it, from 1.
const scheduleHistoryCount = `COALESCE((SELECT max(n.position) FROM schedule_events n WHERE n.contract_id = c.id), 0) AS schedule_history_count`

// loadContract loads a contract as reads show it, with its newest
// ScheduleHistoryShown schedule events and its newest SegmentsShown
// segments at positions after after (0: of all its segments), in one
// statement.
func loadContract(ctx context.Context, q sqlx.QueryerContext, tenantID, key string, after int64) (domain.Contract, error) {
	var row struct {
		contractRow
		SegmentsJSON []byte `db:"segments"`
		HistoryJSON  []byte `db:"schedule_history"`
	}
	err := getContract(ctx, q, &row, contractColumns+contractHistory, tenantID, key, "", after, SegmentsShown, ScheduleHistoryShown)
	if err != nil {
		return domain.Contract{}, err
	}
	c, err := row.contract()
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(row.SegmentsJSON, &c.Segments); err != nil {
		return c, fmt.Errorf("decode segments: %w", err)
	}
	if err := json.Unmarshal(row.HistoryJSON, &c.PaymentSchedule.History); err != nil {
		return c, fmt.Errorf("decode schedule history: %w", err)
	}
	return c, nil
}

// ContractSegments lists up to pageSize of the segments of one of the
// scope's contracts (key as for Contract) in chain order, from the one
// after position after (0: from the first). It returns the page, the
// position of its last segment and whether more follow.
func (s *Store) ContractSegments(ctx context.Context, sc Scope, key string, after int64, pageSize int) ([]domain.Segment, int64, bool, error) {
	return contractPage[domain.Segment](ctx, s, sc, key, "segments", `SELECT s.position, `+segmentObject+` AS item
		FROM contract_segments s JOIN contracts c ON c.id = s.contract_id JOIN accounts a ON a.id = c.account_id
		WHERE s.contract_id = $1 AND s.position > $2::bigint ORDER BY s.position LIMIT $3`, after, pageSize)
}

// ContractScheduleHistory lists up to pageSize of the schedule events of
// one of the scope's contracts (key as for Contract), oldest first, from
// the one after position after (an event's place in the contract's
// history, from 1; 0: from the first). It returns the page, the position of
// its last event and whether more follow. A position is not the event's id:
// ids come from one sequence for every tenant, and a page token showing one
// would let a client count what other tenants do.
func (s *Store) ContractScheduleHistory(ctx context.Context, sc Scope, key string, after int64, pageSize int) ([]domain.ScheduleEvent, int64, bool, error) {
	return contractPage[domain.ScheduleEvent](ctx, s, sc, key, "schedule events", `SELECT e.position, `+scheduleEventObject+` AS item
		FROM schedule_events e WHERE e.contract_id = $1 AND e.position > $2::bigint ORDER BY e.position LIMIT $3`, after, pageSize)
}

// contractPage reads a page of a list of one of the scope's contracts: up
// to pageSize items after position after, as query selects them (a
// position and the item as JSON, for contract $1 after position $2, at most
// $3 of them). It returns the page, the position of its last item and
// whether more follow.
func contractPage[T any](ctx context.Context, s *Store, sc Scope, key, what, query string, after int64, pageSize int) ([]T, int64, bool, error) {
	ct, err := s.ContractTerms(ctx, sc, key)
	if err != nil {
		return nil, 0, false, err
	}
	var rows []struct {
		Position int64  `db:"position"`
		Item     []byte `db:"item"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, ct.ID, after, pageSize+1); err != nil {
		return nil, 0, false, fmt.Errorf("list %s of contract %s: %w", what, ct.ID, err)
	}
	rows, more := page(rows, pageSize)
	items := make([]T, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Item, &items[i]); err != nil {
			return nil, 0, false, fmt.Errorf("decode %s: %w", what, err)
		}
		after = r.Position
	}
	return items, after, more, nil
}

// loadTerms loads a contract without its segments and schedule history,
// which grow with every change and which pricing does not read. lock holds
// its row until the transaction ends, and the tenant catalog's advisory
// lock shared, taken before it in the same statement (see catalog_lock.go).
func loadTerms(ctx context.Context, q sqlx.QueryerContext, tenantID, key string, lock bool) (domain.Contract, error) {
	suffix := ""
	if lock {
		suffix = " AND " + sharingCatalogAdvisory + " FOR UPDATE OF c"
	}
	var row contractRow
	if err := getContract(ctx, q, &row, contractColumns, tenantID, key, suffix); err != nil {
		return domain.Contract{}, err
	}
	return row.contract()
}

// getContract reads columns of the tenant's contract named by key into dest;
// more are the columns' own arguments, from $3.
func getContract(ctx context.Context, q sqlx.QueryerContext, dest any, columns, tenantID, key, suffix string, more ...any) error {
	clause, arg := contractKeyClause(key)
	err := sqlx.GetContext(ctx, q, dest, `SELECT `+columns+`
		FROM `+contractsAndAccounts+` WHERE c.tenant_id = $1 AND `+clause+suffix, append([]any{tenantID, arg}, more...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("load contract: %w", err)
	}
	return nil
}

// viewingCardInUse reports whether another active contract of the tenant holds the card.
func viewingCardInUse(ctx context.Context, q sqlx.QueryerContext, tenantID, number, exceptContractID string) (bool, error) {
	var used bool
	err := sqlx.GetContext(ctx, q, &used, `SELECT EXISTS (SELECT 1 FROM contracts
		WHERE tenant_id = $1 AND viewing_card_number = $2 AND status = 'active' AND id <> $3)`, tenantID, number, exceptContractID)
	if err != nil {
		return false, fmt.Errorf("look up viewing card: %w", err)
	}
	return used, nil
}

// ContractFilter narrows a contract listing.
type ContractFilter struct {
	AccountNumber string
	Status        string
	PageSize      int
	AfterRef      int64
}

// Contracts lists the scope's contracts in ref order, one page at a time.
// It returns the page and whether more follow.
func (s *Store) Contracts(ctx context.Context, sc Scope, f ContractFilter) ([]domain.Contract, bool, error) {
	query, args := sc.filter(`SELECT `+contractColumns+`, `+segmentCount+`, `+scheduleHistoryCount+` FROM `+contractsAndAccounts+`
		WHERE c.tenant_id = $1 AND c.ref > $2`, []any{sc.TenantID, f.AfterRef})
	if f.AccountNumber != "" {
		args = append(args, f.AccountNumber)
		query += fmt.Sprintf(" AND a.number = $%d", len(args))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		query += fmt.Sprintf(" AND c.status = $%d", len(args))
	}
	args = append(args, f.PageSize+1)
	query += fmt.Sprintf(" ORDER BY c.ref LIMIT $%d", len(args))
	var rows []contractRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return nil, false, fmt.Errorf("list contracts: %w", err)
	}
	rows, more := page(rows, f.PageSize)
	out := make([]domain.Contract, len(rows))
	for i, r := range rows {
		c, err := r.contract()
		if err != nil {
			return nil, false, err
		}
		out[i] = c
	}
	return out, more, nil
}
