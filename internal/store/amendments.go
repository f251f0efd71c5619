package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
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

// Planner validates and prices a change against the locked contract, the
// tenant's catalog and the contract's early-termination charges.
type Planner func(ct domain.Contract, cat domain.Catalog, charges []domain.TerminationCharge) (Plan, error)

// OpenAmendment locks the contract, plans the change and records the
// amendment with its first status, in one transaction. A contract may hold
// only one open amendment: a second gets a KindConflict error naming the
// first. Opening the same amendment id again returns it unchanged. The
// contract comes back as its terms (after the change, when Plan.ApplyNow
// applied it), without its segments and schedule history.
func (s *Store) OpenAmendment(ctx context.Context, in NewAmendment, now time.Time, plan Planner) (domain.Amendment, domain.Contract, error) {
	var am domain.Amendment
	var ct lockedContract
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if ct, err = lockContract(ctx, tx, in.TenantID, in.ContractID); err != nil {
			return err
		}
		if existing, err := loadAmendment(ctx, tx, in.TenantID, in.ID); err == nil {
			am = existing
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if open, err := openAmendmentID(ctx, tx, ct.ID); err != nil {
			return err
		} else if open != "" {
			return domain.OpenAmendmentConflict(ct.Number, open)
		}
		cat, err := loadCatalog(ctx, tx, in.TenantID)
		if err != nil {
			return err
		}
		charges, err := contractTerminationCharges(ctx, tx, in.TenantID, ct.Contract)
		if err != nil {
			return err
		}
		p, err := plan(ct.Contract, cat, charges)
		if err != nil {
			return err
		}
		quote, status := p.Quote, p.Status
		quote.ID, quote.Status = in.ID, status
		quoteJSON, err := json.Marshal(quote)
		if err != nil {
			return fmt.Errorf("encode quote: %w", err)
		}
		var ruleJSON []byte
		if p.MatchedRule != nil {
			if ruleJSON, err = json.Marshal(p.MatchedRule); err != nil {
				return fmt.Errorf("encode matched rule: %w", err)
			}
		}
		var idemKey *string
		if in.IdempotencyKey != "" {
			idemKey = &in.IdempotencyKey
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO amendments (id, tenant_id, contract_id, action, status, effective_date, base_version, quote, request,
				request_hash, idempotency_key, workflow_id, source, submitted_by, matched_rule, review_expires_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)`,
			in.ID, in.TenantID, ct.ID, in.Action, status, quote.EffectiveDate, quote.BaseVersion, quoteJSON, []byte(in.Request),
			in.RequestHash, idemKey, in.WorkflowID, in.Source, in.ActorID, ruleJSON, p.ReviewExpiresAt, now)
		if isUniqueViolation(err, "amendments_one_open_per_contract") {
			open, _ := openAmendmentID(ctx, tx, ct.ID)
			return domain.OpenAmendmentConflict(ct.Number, open)
		}
		if err != nil {
			return fmt.Errorf("insert amendment: %w", err)
		}
		if err := insertEvent(ctx, tx, in.ID, domain.StatusPending, in.ActorID, in.Source, nil, now); err != nil {
			return err
		}
		if status != domain.StatusPending {
			if err := insertEvent(ctx, tx, in.ID, status, in.ActorID, in.Source, nil, now); err != nil {
				return err
			}
		} else if p.ApplyNow {
			applied, err := applyLocked(ctx, tx, in.TenantID, in.ID, quote, in.ActorID, ct, in.ActorID, in.Source, now)
			am, ct.Contract = applied.Amendment, applied.Contract
			return err
		}
		if am, err = loadAmendment(ctx, tx, in.TenantID, in.ID); err != nil {
			return err
		}
		return insertAmendmentEvent(ctx, tx, in.TenantID, am, now)
	})
	return am, ct.Contract, err
}

// lockedContract is a contract held for a change: its terms, and the
// segment the change supersedes (none for a contract without segments).
type lockedContract struct {
	domain.Contract
	current *segmentRef
}

// segmentRef is what a new segment takes from the one it supersedes.
type segmentRef struct {
	ID            string      `db:"id"`
	PlanID        string      `db:"plan_id"`
	EffectiveDate domain.Date `db:"effective_date"`
}

// lockContract locks a contract's row and reads what a change needs. The
// current segment is read by a statement of its own, after the lock is
// held: a statement that waited for the lock still reads with the snapshot
// it started with, and would miss the segment the previous holder wrote.
// The current segment is the chain's tip (its last position), never the one
// created last: a change's time is taken before it waits for the lock, so
// creation times need not follow the order changes were applied in.
func lockContract(ctx context.Context, tx *sqlx.Tx, tenantID, key string) (lockedContract, error) {
	ct, err := loadTerms(ctx, tx, tenantID, key, true)
	if err != nil {
		return lockedContract{}, err
	}
	var current segmentRef
	err = tx.GetContext(ctx, &current, `SELECT id, plan_id, effective_date FROM contract_segments WHERE contract_id = $1
		ORDER BY position DESC LIMIT 1`, ct.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return lockedContract{Contract: ct}, nil
	case err != nil:
		return lockedContract{}, fmt.Errorf("load current segment: %w", err)
	}
	return lockedContract{Contract: ct, current: &current}, nil
}

// statusConflict refuses a transition from a status it does not start from.
func statusConflict(id, status string) error {
	return domain.Errorf(domain.KindConflict, "", "amendment %s is %s", id, status)
}

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
// named literally, as the index that allows one open amendment per contract
// names them: with them as a parameter, Postgres cannot plan a lookup once
// for all contracts on that index.
var isOpen = func() string {
	quoted := make([]string, len(domain.OpenStatuses))
	for i, st := range domain.OpenStatuses {
		quoted[i] = pq.QuoteLiteral(st)
	}
	return `status IN (` + strings.Join(quoted, ", ") + `)`
}()

func openAmendmentID(ctx context.Context, q sqlx.QueryerContext, contractID string) (string, error) {
	var id string
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM amendments WHERE contract_id = $1 AND `+isOpen, contractID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up open amendment: %w", err)
	}
	return id, nil
}

// OpenAmendmentID returns the contract's open amendment, or "" when it has none.
func (s *Store) OpenAmendmentID(ctx context.Context, contractID string) (string, error) {
	return openAmendmentID(ctx, s.db, contractID)
}

func insertEvent(ctx context.Context, tx *sqlx.Tx, amendmentID, status, actor, source string, note *string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		amendmentID, status, actor, source, note, at)
	if err != nil {
		return fmt.Errorf("record amendment event: %w", err)
	}
	return nil
}

// Transition moves an amendment from one of `from` to `to` and records who did
// it. Repeating a transition that already happened is a no-op.
func (s *Store) Transition(ctx context.Context, tenantID, id string, from []string, to, actor, source string, note *string, now time.Time) (domain.Amendment, error) {
	var am domain.Amendment
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM amendments WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("lock amendment: %w", err)
		}
		if status != to {
			if !slices.Contains(from, status) {
				return statusConflict(id, status)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, tenantID, id, to, now); err != nil {
				return fmt.Errorf("update amendment status: %w", err)
			}
			if err := insertEvent(ctx, tx, id, to, actor, source, note, now); err != nil {
				return err
			}
		}
		var err error
		if am, err = loadAmendment(ctx, tx, tenantID, id); err != nil || status == to {
			return err
		}
		return insertAmendmentEvent(ctx, tx, tenantID, am, now)
	})
	return am, err
}

// RecordEvent adds an event to an amendment's history without changing its
// status: an approval before it is applied, an escalation of a pending review.
// Each such event is recorded once however often this runs.
func (s *Store) RecordEvent(ctx context.Context, tenantID, id, event, actor, source string, note *string, now time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM amendments WHERE tenant_id = $1 AND id = $2)`, tenantID, id); err != nil {
			return fmt.Errorf("look up amendment: %w", err)
		}
		if !exists {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, id, event, actor, source, note, now)
		if err != nil {
			return fmt.Errorf("record amendment event: %w", err)
		}
		return nil
	})
}

// Applied is the result of applying an amendment: the amendment, and the
// contract's terms after it, without its segments and schedule history.
type Applied struct {
	Amendment domain.Amendment
	Contract  domain.Contract
}

// ApplyAmendment writes the amendment's change in one transaction: a new
// segment after the current one, the new lines, version + 1, the invoice for
// any prorated amount, and the APPLIED status. Applying an applied amendment
// again changes nothing and returns the same result.
func (s *Store) ApplyAmendment(ctx context.Context, tenantID, id, actor, source string, now time.Time) (Applied, error) {
	// actor and source describe who triggered the apply (the submitter, an
	// approver, or the scheduler); the contract records the submitter as its editor.
	var out Applied
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The contract is locked before the amendment is read, so that the
		// amendment's status is read after whoever held the lock committed.
		var contractID string
		err := tx.GetContext(ctx, &contractID, `SELECT contract_id FROM amendments WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("look up amendment's contract: %w", err)
		}
		ct, err := lockContract(ctx, tx, tenantID, contractID)
		if err != nil {
			return err
		}
		am, err := loadAmendment(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if am.Status == domain.StatusApplied {
			out = Applied{Amendment: am, Contract: ct.Contract}
			return nil
		}
		if !slices.Contains(domain.OpenStatuses, am.Status) {
			return statusConflict(id, am.Status)
		}
		out, err = applyLocked(ctx, tx, tenantID, id, am.Quote, am.SubmittedBy, ct, actor, source, now)
		return err
	})
	return out, err
}

// applyLocked writes a recorded amendment's quote to its contract, which the
// transaction holds locked, and marks the amendment APPLIED.
func applyLocked(ctx context.Context, tx *sqlx.Tx, tenantID, id string, q domain.Quote, submittedBy string, ct lockedContract, actor, source string, now time.Time) (Applied, error) {
	var out Applied
	if ct.Version != q.BaseVersion {
		// Cannot happen while one open amendment per contract holds; refuse rather than lose an update.
		return out, domain.Errorf(domain.KindConflict, "contractId", "contract %s changed since amendment %s was priced (version %d, expected %d)", ct.Number, id, ct.Version, q.BaseVersion)
	}
	if err := writeAmendedContract(ctx, tx, tenantID, ct, q, submittedBy, now); err != nil {
		return out, err
	}
	if cg := q.Crossgrade; cg != nil && cg.Discount != nil {
		if err := redeemDiscount(ctx, tx, tenantID, ct.ID, id, cg.Discount.Code, now); err != nil {
			return out, err
		}
	}
	var settled []newEvent
	if q.InvoicePreview != nil {
		paidUpFront := q.Crossgrade != nil && q.Crossgrade.PaymentAmount > 0
		var err error
		if settled, err = insertAmendmentInvoice(ctx, tx, tenantID, ct.ID, id, *q.InvoicePreview, paidUpFront, now); err != nil {
			return out, err
		}
	}
	// Only an open amendment is applied, whatever was read before.
	res, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND `+isOpen,
		tenantID, id, domain.StatusApplied, now)
	if err != nil {
		return out, fmt.Errorf("mark amendment applied: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return out, domain.Errorf(domain.KindConflict, "", "amendment %s is no longer open", id)
	}
	if err := insertEvent(ctx, tx, id, domain.StatusApplied, actor, source, nil, now); err != nil {
		return out, err
	}
	if out.Amendment, err = loadAmendment(ctx, tx, tenantID, id); err != nil {
		return out, err
	}
	if out.Contract, err = loadTerms(ctx, tx, tenantID, ct.ID, false); err != nil {
		return out, err
	}
	if err := insertAppliedEvents(ctx, tx, tenantID, out.Amendment, now); err != nil {
		return out, err
	}
	return out, appendEvents(ctx, tx, settled)
}

func writeAmendedContract(ctx context.Context, tx *sqlx.Tx, tenantID string, ct lockedContract, q domain.Quote, actor string, now time.Time) error {
	linesJSON, err := json.Marshal(q.LinesAfter)
	if err != nil {
		return fmt.Errorf("encode lines: %w", err)
	}
	status := domain.ContractActive
	if q.CancelsContract {
		status = domain.ContractCancelled
	}
	discountJSON, err := contractDiscount(q)
	if err != nil {
		return err
	}
	// A crossgrade sets the discount (none without a code); other changes
	// keep it unless their quote carries it.
	_, err = tx.ExecContext(ctx, `
		UPDATE contracts SET lines = $3, status = $4, billing_period = $5, version = version + 1, updated_at = $6, updated_by = $7,
			discount = CASE WHEN $8 THEN $9 ELSE COALESCE($9, discount) END
		WHERE tenant_id = $1 AND id = $2`, tenantID, ct.ID, linesJSON, status, q.BillingPeriod, now, actor, q.Crossgrade != nil, discountJSON)
	if err != nil {
		return fmt.Errorf("update contract: %w", err)
	}
	if cg := q.Crossgrade; cg != nil {
		if err := writeCrossgradeTerms(ctx, tx, tenantID, ct.Contract, *cg); err != nil {
			return err
		}
	}
	seg := domain.Segment{
		EffectiveDate: q.EffectiveDate, ExpirationDate: ct.ExpirationDate, Currency: []string{ct.Currency},
		BillingCycleDay: ct.BillingCycleDay, BillingCycleType: domain.BillingCycleType(q.BillingPeriod), Status: status,
		Lines: q.LinesAfter, ID: uuid.NewString(), CreatedOn: now, UpdatedOn: now, CreatedBy: actor, UpdatedBy: actor,
	}
	if prev := ct.current; prev != nil {
		seg.PreviousContractSegmentID = &prev.ID
		seg.PlanID = prev.PlanID
		// The superseded segment now ends where the new one starts; one that
		// started the same day never took effect (see domain.SegmentSuperseded).
		ended := domain.ContractExpired
		if prev.EffectiveDate.Equal(q.EffectiveDate) {
			ended = domain.SegmentSuperseded
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contract_segments SET status = $2, expiration_date = $3, updated_at = $4, updated_by = $5 WHERE id = $1`,
			prev.ID, ended, q.EffectiveDate, now, actor); err != nil {
			return fmt.Errorf("close previous segment: %w", err)
		}
	}
	if len(q.LinesAfter) > 0 {
		seg.PlanID = q.LinesAfter[0].OfferingID
	}
	return insertSegment(ctx, tx, tenantID, ct.ID, seg)
}

// contractDiscount is the contract's discount once q applies, encoded; nil
// for none.
func contractDiscount(q domain.Quote) ([]byte, error) {
	d := q.Discount
	if d == nil && q.Crossgrade != nil {
		d = q.Crossgrade.Discount // a crossgrade priced before quotes carried the contract's discount
	}
	if d == nil {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode discount: %w", err)
	}
	return b, nil
}

// writeCrossgradeTerms records what a crossgrade brings besides lines and
// discount: its viewing card and its referrer.
func writeCrossgradeTerms(ctx context.Context, tx *sqlx.Tx, tenantID string, ct domain.Contract, cg domain.CrossgradeQuote) error {
	var card, referrer *string
	if cg.ViewingCardNumber != "" {
		card = &cg.ViewingCardNumber
	}
	if cg.Referrer != "" {
		referrer = &cg.Referrer
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE contracts SET viewing_card_number = COALESCE($3, viewing_card_number), referrer = COALESCE($4, referrer)
		WHERE tenant_id = $1 AND id = $2`, tenantID, ct.ID, card, referrer)
	if isUniqueViolation(err, "contracts_active_viewing_card") {
		return &domain.Error{Kind: domain.KindConflict, Field: "viewingCardNumber", Fault: domain.FaultVCNInUse,
			Message: fmt.Sprintf("viewing card %q is already on another contract", cg.ViewingCardNumber)}
	}
	if err != nil {
		return fmt.Errorf("record crossgrade terms: %w", err)
	}
	return nil
}

// insertAmendmentInvoice records the invoice an amendment raised and settles
// it (see settleNewInvoice), unless a crossgrade pays it up front: its
// capture settles it. It returns the settlement's events.
func insertAmendmentInvoice(ctx context.Context, tx *sqlx.Tx, tenantID, contractID, amendmentID string, p domain.InvoicePreview, paidUpFront bool, now time.Time) ([]newEvent, error) {
	linesJSON, err := json.Marshal(p.Lines)
	if err != nil {
		return nil, fmt.Errorf("encode invoice lines: %w", err)
	}
	status, due := InvoiceOpen, max(p.Total, 0)
	if p.Total < 0 {
		status = InvoiceCredit
	}
	inv := settledInvoice{ID: uuid.NewString(), ContractID: contractID, Currency: p.Currency, Total: p.Total}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO invoices (id, tenant_id, contract_id, amendment_id, kind, period_start, period_end, currency, lines, total, amount_due, status, paid_up_front, created_at)
		VALUES ($1, $2, $3, $4, 'AMENDMENT', $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		inv.ID, tenantID, contractID, amendmentID, p.Period.Start, p.Period.End, p.Currency, linesJSON, p.Total, due, status, paidUpFront, now)
	if err != nil {
		return nil, fmt.Errorf("insert amendment invoice: %w", err)
	}
	if paidUpFront {
		return nil, nil
	}
	return settleNewInvoice(ctx, tx, tenantID, inv, now)
}

// Invoice statuses: an invoice is issued OPEN, or CREDIT when it credits
// (its credit note carries the amount).
const (
	InvoiceOpen   = "OPEN"
	InvoiceCredit = "CREDIT"
)

// InvoiceAmendment is the kind of an invoice an amendment raised.
const InvoiceAmendment = "AMENDMENT"

const amendmentColumns = `m.id, m.contract_id, c.number AS contract_number, m.action, m.status, m.effective_date, m.quote,
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
	COALESCE((SELECT json_agg(json_build_object('status', e.status, 'actorId', e.actor_id, 'source', e.source,
			'note', e.note, 'at', e.at) ORDER BY e.id)
		FROM amendment_events e WHERE e.amendment_id = m.id), '[]') AS history,
	(SELECT json_build_object('id', i.id, 'contractId', i.contract_id, 'amendmentId', i.amendment_id, 'kind', i.kind,
			'periodStart', i.period_start, 'periodEnd', i.period_end, 'currency', i.currency, 'lines', i.lines,
			'total', i.total, 'amountDue', i.amount_due, 'status', i.status, 'createdOn', i.created_at)
		FROM invoices i WHERE i.amendment_id = m.id) AS invoice`

func loadAmendment(ctx context.Context, q sqlx.QueryerContext, tenantID, id string) (domain.Amendment, error) {
	if _, err := uuid.Parse(id); err != nil {
		return domain.Amendment{}, ErrNotFound
	}
	var row struct {
		amendmentRow
		HistoryJSON []byte `db:"history"`
		InvoiceJSON []byte `db:"invoice"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT `+amendmentColumns+amendmentHistory+`
		FROM amendments m JOIN contracts c ON c.id = m.contract_id WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Amendment{}, ErrNotFound
	}
	if err != nil {
		return domain.Amendment{}, fmt.Errorf("load amendment: %w", err)
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

func loadInvoices(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]domain.Invoice, error) {
	var rows []struct {
		domain.Invoice
		LinesJSON []byte `db:"lines"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, contract_id, amendment_id, kind, period_start, period_end, currency, lines, total, amount_due, status, created_at
		FROM invoices WHERE `+where+` ORDER BY created_at, id`, args...); err != nil {
		return nil, fmt.Errorf("load invoices: %w", err)
	}
	out := make([]domain.Invoice, len(rows))
	for i, r := range rows {
		out[i] = r.Invoice
		if err := json.Unmarshal(r.LinesJSON, &out[i].Lines); err != nil {
			return nil, fmt.Errorf("decode invoice lines: %w", err)
		}
	}
	return out, nil
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

// ContractAmendments lists a contract's amendments, newest first.
func (s *Store) ContractAmendments(ctx context.Context, tenantID, contractID string) ([]domain.Amendment, error) {
	var rows []amendmentRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+amendmentColumns+` FROM amendments m JOIN contracts c ON c.id = m.contract_id
		WHERE m.tenant_id = $1 AND m.contract_id = $2 ORDER BY m.created_at DESC, m.id`, tenantID, contractID); err != nil {
		return nil, fmt.Errorf("list amendments: %w", err)
	}
	out := make([]domain.Amendment, len(rows))
	for i, r := range rows {
		am, err := r.amendment()
		if err != nil {
			return nil, err
		}
		out[i] = am
	}
	return out, nil
}
