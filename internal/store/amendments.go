package store

import (
	"context"
	"database/sql"
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
		if err := refuseAnotherRequest(ctx, tx, in); err != nil {
			return false, err
		}
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
		if err != nil {
			return moved, err
		}
		return moved, refuseChangeOverAdvance(ctx, tx, in, ct.Contract)
	}
	out.Amendment = recorded
	ann.add(openedEvents(in.TenantID, out.Amendment, now)...)
	return moved, refuseChangeOverAdvance(ctx, tx, in, ct.Contract)
}

// refuseChangeOverAdvance refuses a client's change of a contract on a
// test clock, just recorded (or applied) in tx, that would take the rest of
// an advance under way past its work (see refuseOverAdvance). A renewal is
// part of that work, counted with its term's end.
func refuseChangeOverAdvance(ctx context.Context, tx *sqlx.Tx, in NewAmendment, ct domain.Contract) error {
	if ct.TestClockID == nil || in.Action == domain.Renewal {
		return nil
	}
	return refuseOverAdvance(ctx, tx, in.TenantID, *ct.TestClockID, domain.KindUnprocessable, "", "this change")
}

// refuseAnotherRequest refuses to open an amendment again for a request
// other than the one that opened it. Two requests with one Idempotency-Key
// and different bodies meet in one workflow id; when the first one's
// workflow has ended before the second's Update-with-Start arrives, Temporal
// starts the id again with the second's input, and its opening finds the
// first one's amendment. Answering with it told the second request that its
// change was made (a probe saw both told 200, with one change).
func refuseAnotherRequest(ctx context.Context, tx *sqlx.Tx, in NewAmendment) error {
	if in.RequestHash == "" {
		return nil
	}
	var recorded sql.NullString
	err := tx.GetContext(ctx, &recorded, `SELECT request_hash FROM amendments WHERE tenant_id = $1 AND id = $2`, in.TenantID, in.ID)
	if err != nil {
		return fmt.Errorf("read the request that opened amendment %s: %w", in.ID, err)
	}
	if recorded.String != "" && recorded.String != in.RequestHash {
		return domain.ErrIdempotencyKeyReused
	}
	return nil
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
