package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// statusConflict refuses a transition from a status it does not start from.
func statusConflict(id, status string) error {
	return domain.Errorf(domain.KindConflict, "", "amendment %s is %s", id, status)
}

// insertEvents adds events, in their order, to the history of amendment
// amendmentID, in one statement.
func insertEvents(ctx context.Context, tx *sqlx.Tx, amendmentID string, events ...domain.AmendmentEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]string, len(events))
	args := make([]any, 0, 1+5*len(events))
	args = append(args, amendmentID)
	for i, e := range events {
		n := len(args)
		rows[i] = fmt.Sprintf("($1, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
		args = append(args, e.Status, e.ActorID, e.Source, e.Note, e.At)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES `+
		strings.Join(rows, ", "), args...)
	if err != nil {
		return fmt.Errorf("record amendment event: %w", err)
	}
	return nil
}

// Transition moves an amendment from one of `from` to to.Status and records
// to as its event: who did it, through which surface, with what note, when.
// Repeating a transition that already happened is a no-op. An amendment
// that leaves the contract's timeline moves the ones after it: they are
// priced again in the same transaction, and rebased reports whether their
// workflows are to be told.
func (s *Store) Transition(ctx context.Context, tenantID, id string, from []string, to domain.AmendmentEvent) (am domain.Amendment, rebased bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		status, contractID, clock, err := lockAmendment(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		to.At = onClock(clock, to.At)
		var ann announcements
		if status != to.Status {
			if !slices.Contains(from, status) {
				return statusConflict(id, status)
			}
			// Its workflow, which moves it, reads it from this.
			if _, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, updated_at = $4, rebase_pending = false WHERE tenant_id = $1 AND id = $2`,
				tenantID, id, to.Status, to.At); err != nil {
				return fmt.Errorf("update amendment status: %w", err)
			}
			if err := insertEvents(ctx, tx, id, to); err != nil {
				return err
			}
			if rebased, err = rebaseLocked(ctx, tx, tenantID, contractID, to.At, &ann); err != nil {
				return err
			}
		}
		if am, err = loadAmendment(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if status == to.Status {
			// A retry: the first attempt's re-pricing may still wait to be told.
			rebased, err = rebasePending(ctx, tx, contractID)
			return err
		}
		ann.amendment(tenantID, am, to.At)
		return ann.append(ctx, tx)
	})
	return am, rebased, err
}

// lockAmendment locks an amendment's contract, then the amendment, in the
// order every change to a contract takes its locks, and reads its status
// and the time of the contract's test clock (nil on the wall clock).
func lockAmendment(ctx context.Context, tx *sqlx.Tx, tenantID, id string) (status, contractID string, clock *time.Time, err error) {
	err = tx.GetContext(ctx, &contractID, `SELECT contract_id FROM amendments WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil, ErrNotFound
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("look up amendment's contract: %w", err)
	}
	if clock, err = lockContractRow(ctx, tx, contractID); err != nil {
		return "", "", nil, err
	}
	if err := tx.GetContext(ctx, &status, `SELECT status FROM amendments WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id); err != nil {
		return "", "", nil, fmt.Errorf("lock amendment: %w", err)
	}
	return status, contractID, clock, nil
}

// checkQuoteVersion holds an approval that names a quote version (seen,
// nil when it names none) to the amendment's current one: an earlier
// version was re-priced since (409); a later one the amendment has never
// had (422: versions only go up, so no approver saw it; a typo, or another
// amendment's version).
func checkQuoteVersion(am domain.Amendment, seen *int64) error {
	switch {
	case seen == nil || *seen == am.QuoteVersion:
		return nil
	case *seen > am.QuoteVersion:
		return domain.Errorf(domain.KindUnprocessable, "quoteVersion", "amendment %s has never had quote version %d; its quote is version %d",
			am.ID, *seen, am.QuoteVersion)
	}
	return domain.Errorf(domain.KindConflict, "quoteVersion", "amendment %s was re-priced since quote version %d; its quote is now version %d",
		am.ID, *seen, am.QuoteVersion)
}

// Approve accepts an amendment held in REVIEW: it records the approval
// (event APPROVED, with the approver's comment), gives the amendment its
// place in the contract's order and makes it SCHEDULED (PENDING when due),
// then prices the timeline again from the contract as it is, this amendment
// included: one that no longer holds ends FAILED. A decision that names the quote version
// its approver saw is refused when the quote has changed since (a conflict),
// or when the amendment never had that version (unprocessable). Approving
// again returns the amendment as the first approval left it.
// Long: one transaction, in the order the locks and checks must come.
func (s *Store) Approve(ctx context.Context, tenantID, id string, approval domain.AmendmentEvent, quoteVersion *int64) (am domain.Amendment, rebased bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		status, contractID, clock, err := lockAmendment(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		approval.At = onClock(clock, approval.At)
		if am, err = loadAmendment(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if status != domain.StatusReview {
			// A retry (the workflow task that took the approval may have been
			// lost after this committed): this approver's approval is returned
			// as it stands, and the first attempt's re-pricing may still wait
			// to be told. Anyone else's is not theirs to answer with.
			if !am.ActedBy(approval.Status, approval.ActorID) {
				return statusConflict(id, status)
			}
			rebased, err = rebasePending(ctx, tx, contractID)
			return err
		}
		if err := checkQuoteVersion(am, quoteVersion); err != nil {
			return err
		}
		seq, err := nextSeq(ctx, tx, contractID)
		if err != nil {
			return err
		}
		// Approved after its date, a change takes effect on the day of its
		// approval: changes may have applied since its date, and it goes
		// after them. The re-pricing below prices it on that day. One due
		// today is accepted PENDING, as an immediate change is, and applies
		// at once; a later one is SCHEDULED.
		events := []domain.AmendmentEvent{approval}
		status, date, today := domain.StatusPending, am.EffectiveDate, domain.DateOf(approval.At)
		if date.After(today) {
			scheduled := approval
			scheduled.Status, scheduled.Note = domain.StatusScheduled, nil
			status, events = domain.StatusScheduled, append(events, scheduled)
		}
		redated := date.Before(today)
		if redated {
			note := fmt.Sprintf("approved after its effective date %s: it takes effect on %s", date, today)
			date, events[0].Note = today, joinNotes(approval.Note, note)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, timeline_seq = $4, updated_at = $5, effective_date = $6,
			quote = jsonb_set(quote, '{effectiveDate}', to_jsonb($6::date::text)) WHERE tenant_id = $1 AND id = $2`,
			tenantID, id, status, seq, approval.At, date); err != nil {
			return fmt.Errorf("accept approved amendment: %w", err)
		}
		if err := insertEvents(ctx, tx, id, events...); err != nil {
			return err
		}
		var ann announcements
		if _, err = rebaseLocked(ctx, tx, tenantID, contractID, approval.At, &ann); err != nil {
			return err
		}
		// Its workflow, which approves it, learns what the re-pricing made
		// of it from the answer; the others are to be told.
		if err := clearRebaseMark(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if rebased, err = rebasePending(ctx, tx, contractID); err != nil {
			return err
		}
		if am, err = loadAmendment(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if am.Status == domain.StatusFailed {
			return ann.append(ctx, tx) // one the timeline failed is announced as it failed
		}
		// Accepting it priced it again: an approver who named the version
		// they saw approves that one or none (unless the approval itself moved
		// a late change's date, which the answer shows).
		if quoteVersion != nil && am.QuoteVersion != *quoteVersion && !redated {
			return domain.Errorf(domain.KindConflict, "quoteVersion", "amendment %s is priced differently now it is accepted (quote version %d, not %d); review it again",
				id, am.QuoteVersion, *quoteVersion)
		}
		ann.amendment(tenantID, am, approval.At)
		return ann.append(ctx, tx)
	})
	return am, rebased, err
}

// RecordEvent adds an event to an amendment's history without changing its
// status: an approval before it is applied, an escalation of a pending review.
// Each such event is recorded once however often this runs.
func (s *Store) RecordEvent(ctx context.Context, tenantID, id string, e domain.AmendmentEvent) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The event happens at the time of the contract's test clock when
		// it lives on one.
		var clock *time.Time
		err := tx.GetContext(ctx, &clock, `SELECT (SELECT t.frozen_time FROM contracts c JOIN test_clocks t ON t.id = c.test_clock_id WHERE c.id = a.contract_id)
			FROM amendments a WHERE a.tenant_id = $1 AND a.id = $2`, tenantID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("look up amendment: %w", err)
		}
		e.At = onClock(clock, e.At)
		_, err = tx.ExecContext(ctx, `
			INSERT INTO amendment_events (amendment_id, status, actor_id, source, note, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, id, e.Status, e.ActorID, e.Source, e.Note, e.At)
		if err != nil {
			return fmt.Errorf("record amendment event: %w", err)
		}
		return nil
	})
}

// joinNotes appends a note of the service's to an approver's comment.
func joinNotes(comment *string, note string) *string {
	if comment == nil || *comment == "" {
		return &note
	}
	joined := *comment + " (" + note + ")"
	return &joined
}
