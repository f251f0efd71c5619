package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// A contract's order is kept here, in Postgres, under the contract's row
// lock: every change to a contract's timeline (opening, approving, applying
// or ending an amendment) locks the contract, and in the same transaction
// prices every later pending amendment again (rebaseLocked). Each amendment
// keeps its own workflow, which waits for its date; the store tells it of a
// new quote or a failure through rebase_pending, which a Temporal Update
// carries to it (see TellRebased and activities.Amendments.NotifyTimeline).

// openTimeline is an expression for the open amendments of the contract
// whose id is contractID (an SQL expression) as one JSON array, spelt as
// domain.Pending decodes, NULL when it has none: a statement that reads
// something else of the contract reads its timeline with it.
func openTimeline(contractID string) string {
	return `(SELECT json_agg(json_build_object('ID', id, 'Status', status, 'Seq', COALESCE(timeline_seq, 0),
			'QuoteVersion', quote_version, 'Quote', quote, 'Change', change)
			ORDER BY effective_date, timeline_seq NULLS LAST, created_at, id)
		FROM amendments WHERE contract_id = ` + contractID + ` AND ` + isOpen + `)`
}

// loadTimeline reads a contract's open amendments in the order they will apply.
func loadTimeline(ctx context.Context, q sqlx.QueryerContext, contractID string) ([]domain.Pending, error) {
	var doc []byte
	if err := sqlx.GetContext(ctx, q, &doc, `SELECT `+openTimeline("$1"), contractID); err != nil {
		return nil, fmt.Errorf("load the contract's timeline: %w", err)
	}
	return decodeTimeline(doc)
}

// decodeTimeline decodes what openTimeline read, in the order the
// amendments will apply.
func decodeTimeline(doc []byte) ([]domain.Pending, error) {
	out := []domain.Pending{}
	if doc == nil {
		return out, nil
	}
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("decode the contract's timeline: %w", err)
	}
	domain.SortTimeline(out)
	return out, nil
}

// Timeline is a contract's terms now and its open amendments in the order
// they will apply.
type Timeline struct {
	Contract domain.Contract
	Pending  []domain.Pending
}

// ContractTimeline reads a contract of the scope (by id or number) with its
// open amendments.
func (s *Store) ContractTimeline(ctx context.Context, sc Scope, key string) (Timeline, error) {
	ct, err := s.Contract(ctx, sc, key)
	if err != nil {
		return Timeline{}, err
	}
	pending, err := loadTimeline(ctx, s.db, ct.ID)
	return Timeline{Contract: ct, Pending: pending}, err
}

// PendingTimeline reads a contract's open amendments in the order they will
// apply, for a check before the workflow's, which reads them under the lock.
func (s *Store) PendingTimeline(ctx context.Context, contractID string) ([]domain.Pending, error) {
	return loadTimeline(ctx, s.db, contractID)
}

// nextSeq gives the next place in the locked contract's order.
func nextSeq(ctx context.Context, tx *sqlx.Tx, contractID string) (int64, error) {
	var seq int64
	err := tx.GetContext(ctx, &seq, `UPDATE contracts SET timeline_seq = timeline_seq + 1 WHERE id = $1 RETURNING timeline_seq`, contractID)
	if err != nil {
		return 0, fmt.Errorf("take a place in the contract's order: %w", err)
	}
	return seq, nil
}

// refuseOnTimeline refuses a new amendment on a contract that holds the most
// open ones it may, and a second open cancellation, naming the first.
func refuseOnTimeline(ct domain.Contract, action domain.Action, timeline []domain.Pending) error {
	if len(timeline) >= domain.MaxPendingPerContract {
		return domain.Errorf(domain.KindConflict, "contractId", "contract %s holds %d open amendments, the most it may; withdraw one or wait until one applies",
			ct.Number, len(timeline))
	}
	if action != domain.Cancellation {
		return nil
	}
	for _, p := range timeline {
		if p.Quote.Action == domain.Cancellation {
			return domain.Errorf(domain.KindConflict, "action", "contract %s already has an open cancellation %s (%s)", ct.Number, p.ID, p.Status)
		}
	}
	return nil
}

// rebaseLocked prices every open amendment of the locked contract again
// against the contract as it will be on its date, now that its terms or its
// timeline changed (see repriceTimeline). It reports whether any amendment
// of the contract waits for its workflow to read it, so that the caller
// signals them.
func rebaseLocked(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, now time.Time, ann *announcements) (bool, error) {
	return rebaseAnd(ctx, tx, tenantID, contractID, now, ann, nil)
}

// rebaseAfterApply is rebaseLocked after an amendment applied: the first
// accepted amendment left on the timeline, when its date has come, may be
// waiting its turn behind the one that applied, and is told too (see
// callNextInLine).
func rebaseAfterApply(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, now time.Time, ann *announcements) (bool, error) {
	return rebaseAnd(ctx, tx, tenantID, contractID, now, ann, callNextInLine)
}

// rebaseAnd is rebaseLocked, with then (when set) given the timeline as the
// re-pricing left it, before the marks are looked for.
func rebaseAnd(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, now time.Time, ann *announcements,
	then func(context.Context, *sqlx.Tx, []domain.Pending, domain.Date) error) (bool, error) {
	timeline, today, err := repriceTimeline(ctx, tx, tenantID, contractID, now, ann)
	if err != nil || len(timeline) == 0 {
		return false, err
	}
	if then != nil {
		if err := then(ctx, tx, timeline, today); err != nil {
			return false, err
		}
	}
	return rebasePending(ctx, tx, contractID)
}

// repriceTimeline prices every open amendment of the locked contract again.
// One whose quote changed records it (REPRICED, with the quote before and
// after, and an amendment.repriced event); one that no longer holds ends
// FAILED with the reason. Both are marked for their workflow to read; ann
// gathers what each announces. It returns the timeline as it read it, with
// each amendment's status and quote as the re-pricing left them, and the
// contract's today.
// Long: reads, re-prices and records in one pass so the lock covers it all.
func repriceTimeline(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, now time.Time, ann *announcements) ([]domain.Pending, domain.Date, error) {
	var today domain.Date
	timeline, err := loadTimeline(ctx, tx, contractID)
	if err != nil || len(timeline) == 0 {
		return nil, today, err
	}
	ct, err := loadTerms(ctx, tx, tenantID, contractID, false)
	if err != nil {
		return nil, today, err
	}
	now = ct.Now(now)
	today = domain.DateOf(now)
	cat, err := loadCatalog(ctx, tx, tenantID)
	if err != nil {
		return nil, today, err
	}
	charges, err := contractTerminationCharges(ctx, tx, tenantID, ct)
	if err != nil {
		return nil, today, err
	}
	facts := map[string]domain.CrossgradeFacts{}
	for _, p := range timeline {
		if p.Change != nil && p.Change.Crossgrade != nil {
			if facts[p.ID], err = crossgradeFacts(ctx, tx, tenantID, contractID, *p.Change.Crossgrade); err != nil {
				return nil, today, err
			}
		}
	}
	results := domain.Rebase(&cat, ct, timeline, today, charges, func(p domain.Pending) domain.CrossgradeFacts { return facts[p.ID] })
	for i, r := range results {
		before := &timeline[i]
		switch {
		case r.Err != nil:
			err = failOnRebase(ctx, tx, tenantID, *before, r.Err, now, ann)
			before.Status = domain.StatusFailed
		case r.Changed:
			err = reprice(ctx, tx, tenantID, *before, r.Quote, now, ann)
			before.Quote = r.Quote
		}
		if err != nil {
			return nil, today, err
		}
	}
	return timeline, today, nil
}

// callNextInLine marks, for its workflow to be told, the first accepted
// amendment of the timeline (as repriceTimeline left it) when its date has
// come. Its apply may have been refused while the one that just applied was
// before it (see awaitTurn), and the re-pricing marks it only when its quote
// changed, which the apply of the change it was priced after does not do:
// unmarked, its workflow would try again only after its next recheck,
// seconds later. (An amendment that leaves the timeline otherwise changes
// the next one's base version, and so re-prices it.) One that is not
// waiting reads itself again, unchanged.
func callNextInLine(ctx context.Context, tx *sqlx.Tx, timeline []domain.Pending, today domain.Date) error {
	i := slices.IndexFunc(timeline, domain.Pending.InProjection)
	if i < 0 || timeline[i].Quote.EffectiveDate.After(today) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE amendments SET rebase_pending = true WHERE id = $1 AND NOT rebase_pending`, timeline[i].ID); err != nil {
		return fmt.Errorf("mark amendment %s, next in line: %w", timeline[i].ID, err)
	}
	return nil
}

// reprice records an amendment's new quote, and gathers its announcement.
func reprice(ctx context.Context, tx *sqlx.Tx, tenantID string, before domain.Pending, q domain.Quote, now time.Time, ann *announcements) error {
	quoteJSON, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("encode quote: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE amendments SET quote = $3, base_version = $4, quote_version = quote_version + 1,
		rebase_pending = true, updated_at = $5 WHERE tenant_id = $1 AND id = $2`, tenantID, before.ID, quoteJSON, q.BaseVersion, now)
	if err != nil {
		return fmt.Errorf("record the new quote of amendment %s: %w", before.ID, err)
	}
	note := domain.RepricedNote(before.Quote, q, before.QuoteVersion+1)
	if err := insertEvents(ctx, tx, before.ID, domain.AmendmentEvent{Status: domain.EventRepriced, ActorID: "system", Source: "TIMELINE", Note: &note, At: now}); err != nil {
		return err
	}
	am, err := loadAmendment(ctx, tx, tenantID, before.ID)
	if err != nil {
		return err
	}
	ann.add(newEvent{TenantID: tenantID, Type: EventAmendmentRepriced, ContractID: am.ContractID, AmendmentID: &am.ID, At: now,
		Data: repricedEvent{Amendment: am, Before: before.Quote}})
	return nil
}

// repricedEvent is what amendment.repriced carries: the amendment with its
// new quote, and the quote it replaced.
type repricedEvent struct {
	domain.Amendment
	Before domain.Quote `json:"quoteBefore"`
}

// failOnRebase ends an amendment that no longer holds on its contract's new
// timeline.
func failOnRebase(ctx context.Context, tx *sqlx.Tx, tenantID string, p domain.Pending, cause error, now time.Time, ann *announcements) error {
	return failOpen(ctx, tx, tenantID, p.ID, "no longer holds after an earlier change: "+cause.Error(), now, ann)
}

// failOpen ends an open amendment FAILED, saying why, marks it for its
// workflow to read, and gathers its announcement.
func failOpen(ctx context.Context, tx *sqlx.Tx, tenantID, id, note string, now time.Time, ann *announcements) error {
	_, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, rebase_pending = true, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
		tenantID, id, domain.StatusFailed, now)
	if err != nil {
		return fmt.Errorf("fail amendment %s: %w", id, err)
	}
	if err := insertEvents(ctx, tx, id, domain.AmendmentEvent{Status: domain.StatusFailed, ActorID: "system", Source: "TIMELINE", Note: &note, At: now}); err != nil {
		return err
	}
	am, err := loadAmendment(ctx, tx, tenantID, id)
	if err != nil {
		return err
	}
	ann.amendment(tenantID, am, now)
	return nil
}

func rebasePending(ctx context.Context, q sqlx.QueryerContext, contractID string) (bool, error) {
	var pending bool
	err := sqlx.GetContext(ctx, q, &pending, `SELECT EXISTS (SELECT 1 FROM amendments WHERE contract_id = $1 AND rebase_pending)`, contractID)
	if err != nil {
		return false, fmt.Errorf("look for re-priced amendments: %w", err)
	}
	return pending, nil
}

// TellRebased tells the workflow of every amendment the timeline re-priced
// or failed, and that has not read it yet, with tell: of the contract, or of
// every contract of the tenant when contractID is "". It goes by what
// Postgres marks, so a retry, or any later change, tells whoever an earlier
// attempt missed. tell reports false for a workflow that has ended, whose
// mark is then cleared: nothing is left to read it.
//
// Changes to one contract at once each tell, and list the same marks. So
// that they do not all tell the same workflow first (Temporal aborts an
// Update beyond the ten a workflow has in flight, and each is retried), each
// goes through the list in its own order, and passes over a mark cleared
// since it listed it: that workflow has read its amendment after the
// re-pricing that marked it. A probe withdrawing 100 of a contract's 100
// open amendments at once saw about 2,200 Updates aborted, and half its
// withdrawals answered 202 after AMENDMENT_WAIT.
func (s *Store) TellRebased(ctx context.Context, tenantID, contractID string, tell func(ctx context.Context, workflowID string) (bool, error)) error {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, `SELECT workflow_id FROM amendments
		WHERE tenant_id = $1 AND ($2 = '' OR contract_id::text = $2) AND rebase_pending`, tenantID, contractID)
	if err != nil {
		return fmt.Errorf("list re-priced amendments: %w", err)
	}
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	// One workflow that cannot be told does not keep the others from it.
	var failed []error
	for _, id := range ids {
		var marked bool
		if err := s.db.GetContext(ctx, &marked, `SELECT rebase_pending FROM amendments WHERE tenant_id = $1 AND workflow_id = $2`, tenantID, id); err != nil {
			failed = append(failed, fmt.Errorf("look at %s's mark: %w", id, err))
			continue
		}
		if !marked {
			continue
		}
		running, err := tell(ctx, id)
		if err == nil && !running {
			_, err = s.db.ExecContext(ctx, `UPDATE amendments SET rebase_pending = false WHERE tenant_id = $1 AND workflow_id = $2`, tenantID, id)
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("tell %s: %w", id, err))
		}
	}
	return errors.Join(failed...)
}

// rebaseTenantLocked prices again the open amendments of every contract of
// the tenant that has any, each under its contract's lock, taken in one
// order: after a catalog change, which the transaction holds locked. ann
// gathers what the re-pricings announce.
func rebaseTenantLocked(ctx context.Context, tx *sqlx.Tx, tenantID string, now time.Time, ann *announcements) (bool, error) {
	var contracts []string
	err := tx.SelectContext(ctx, &contracts, `SELECT DISTINCT contract_id FROM amendments WHERE tenant_id = $1 AND `+isOpen+` ORDER BY contract_id`, tenantID)
	if err != nil {
		return false, fmt.Errorf("list contracts with open amendments: %w", err)
	}
	var told bool
	for _, id := range contracts {
		if _, err := lockContractRow(ctx, tx, id); err != nil {
			return false, err
		}
		rebased, err := rebaseLocked(ctx, tx, tenantID, id, now, ann)
		if err != nil {
			return false, err
		}
		told = told || rebased
	}
	return told, nil
}

// SyncAmendment reads an amendment for its workflow and clears its mark: the
// workflow now knows its quote and status.
func (s *Store) SyncAmendment(ctx context.Context, tenantID, id string) (domain.Amendment, error) {
	var am domain.Amendment
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := clearRebaseMark(ctx, tx, tenantID, id); err != nil {
			return err
		}
		var err error
		am, err = loadAmendment(ctx, tx, tenantID, id)
		return err
	})
	return am, err
}

// lockContractRow locks a contract's row, for a change that needs the lock
// but not the terms (lockContract reads them too). It returns the time of
// the contract's test clock, nil when it lives on the wall clock.
func lockContractRow(ctx context.Context, tx *sqlx.Tx, contractID string) (*time.Time, error) {
	var clock *time.Time
	if err := tx.GetContext(ctx, &clock, `SELECT (SELECT t.frozen_time FROM test_clocks t WHERE t.id = c.test_clock_id)
		FROM contracts c WHERE c.id = $1 FOR UPDATE OF c`, contractID); err != nil {
		return nil, fmt.Errorf("lock contract: %w", err)
	}
	return clock, nil
}

// onClock is the time of a change to a contract whose test clock reads
// clock: the clock's time, or now for a contract on the wall clock.
func onClock(clock *time.Time, now time.Time) time.Time {
	if clock != nil {
		return *clock
	}
	return now
}

// clearRebaseMark records that the amendment's workflow knows what the
// timeline made of it.
func clearRebaseMark(ctx context.Context, tx *sqlx.Tx, tenantID, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE amendments SET rebase_pending = false WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
		return fmt.Errorf("clear the re-pricing mark of %s: %w", id, err)
	}
	return nil
}
