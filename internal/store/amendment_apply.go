package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// Applied is the result of applying an amendment: the amendment, the
// contract's terms as the lock found them (before the change, without its
// segments and schedule history: what an apply changes is in the
// amendment's quote) and the contract's version now.
type Applied struct {
	Amendment       domain.Amendment
	Contract        domain.Contract
	ContractVersion int64
	// Rebased reports that the timeline changed other amendments, whose
	// workflows are then to be told (see TellRebased).
	Rebased bool
}

// ApplyAmendment writes the amendment's change in one transaction: a new
// segment after the current one, the new lines, version + 1, the invoice for
// any prorated amount, and the APPLIED status. authorised is the up-front
// payment the caller holds for it (0 for none): an amendment whose quote
// asks another (see PaymentChangedError) is not applied. Applying an applied
// amendment again changes nothing and returns the same result.
func (s *Store) ApplyAmendment(ctx context.Context, tenantID, id, actor, source string, authorised int64, now time.Time) (Applied, error) {
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
		now := ct.Now(now)
		am, err := loadAmendment(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if am.Status == domain.StatusApplied {
			// A retry: the first attempt's re-pricing may still wait to be told.
			out = Applied{Amendment: am, Contract: ct.Contract, ContractVersion: ct.Version}
			out.Rebased, err = rebasePending(ctx, tx, ct.ID)
			return err
		}
		if !slices.Contains(domain.OpenStatuses, am.Status) {
			return statusConflict(id, am.Status)
		}
		if err := awaitTurn(ctx, tx, ct.Contract, am); err != nil {
			return err
		}
		var ann announcements
		if am, err = priceBilledPeriod(ctx, tx, tenantID, ct.Contract, am, now, &ann); err != nil {
			return err
		}
		if due := am.Quote.UpFrontPayment(); due != authorised {
			return &PaymentChangedError{ID: id, Due: due, Authorised: authorised}
		}
		rec := recordedAmendment{TenantID: tenantID, ID: id, Quote: am.Quote, SubmittedBy: am.SubmittedBy}
		if out, err = applyLocked(ctx, tx, ct, rec, domain.AmendmentEvent{Status: domain.StatusApplied, ActorID: actor, Source: source, At: now}, &ann); err != nil {
			return err
		}
		if out.Rebased, err = rebaseAfterApply(ctx, tx, tenantID, ct.ID, now, &ann); err != nil {
			return err
		}
		return ann.append(ctx, tx)
	})
	return out, err
}

// ErrNotYourTurn is returned, to be tried again, by an apply whose amendment
// comes after another accepted one that is still open: same-date changes
// apply in the order they were accepted.
var ErrNotYourTurn = errors.New("an amendment before it on the contract's timeline has not applied yet")

// PaymentChangedError refuses to apply an amendment whose up-front payment
// (Due) is not the one its caller authorised: its invoice would be settled
// with another amount than it asks. Its timeline re-priced it after the
// authorisation, while it waited its turn.
type PaymentChangedError struct {
	ID         string
	Due        int64
	Authorised int64
}

func (e *PaymentChangedError) Error() string {
	return fmt.Sprintf("amendment %s is to be paid %d up front, not the %d authorised", e.ID, e.Due, e.Authorised)
}

// awaitTurn refuses, for now, to apply an amendment while one accepted
// before it on the contract's timeline is still open.
func awaitTurn(ctx context.Context, tx *sqlx.Tx, ct domain.Contract, am domain.Amendment) error {
	if atTermEnd(ct, am.Quote) {
		return fmt.Errorf("apply amendment %s after the end of contract %s's term: %w", am.ID, ct.Number, ErrNotYourTurn)
	}
	if am.Quote.BaseVersion == ct.Version {
		return nil
	}
	timeline, err := loadTimeline(ctx, tx, ct.ID)
	if err != nil {
		return err
	}
	for _, p := range timeline {
		if p.ID == am.ID {
			break
		}
		if p.InProjection() {
			return fmt.Errorf("apply amendment %s after %s: %w", am.ID, p.ID, ErrNotYourTurn)
		}
	}
	return nil // applyLocked refuses a quote priced on other terms
}

// priceBilledPeriod prices the amendment again when it was quoted while the
// period starting on its date was not billed (so it prorates nothing; see
// domain's prorationLines) and that period has been billed since, on the
// lines before it: a billing run that came first, as after an outage. The
// new quote charges the period's difference, and is recorded as any
// re-pricing is, and gathered in ann. A re-pricing that fails the amendment
// is a conflict.
func priceBilledPeriod(ctx context.Context, tx *sqlx.Tx, tenantID string, ct domain.Contract, am domain.Amendment, now time.Time, ann *announcements) (domain.Amendment, error) {
	q := am.Quote
	if !ct.StartsBilledStretch(q.CurrentPeriod, q.EffectiveDate) || len(q.Proration) > 0 || ct.LastBilled.Before(q.EffectiveDate) {
		return am, nil
	}
	if _, err := rebaseLocked(ctx, tx, tenantID, ct.ID, now, ann); err != nil {
		return am, err
	}
	again, err := loadAmendment(ctx, tx, tenantID, am.ID)
	if err == nil && !slices.Contains(domain.OpenStatuses, again.Status) {
		err = statusConflict(am.ID, again.Status)
	}
	return again, err
}

// atTermEnd reports whether q is a change (other than a cancellation or
// the renewal) dated the end of ct's term, which has not been carried out:
// it applies to the renewed term, after the renewal, or fails when the
// contract expires instead (see EndTerm).
func atTermEnd(ct domain.Contract, q domain.Quote) bool {
	return ct.Status == domain.ContractActive && ct.Renewal.Mode != domain.Evergreen && q.EffectiveDate.Equal(ct.ExpirationDate) &&
		!q.CancelsContract && q.Action != domain.Renewal
}

// recordedAmendment is an amendment as applying it needs it: its quote, and
// its submitter, whom the contract records as its editor.
type recordedAmendment struct {
	TenantID    string
	ID          string
	Quote       domain.Quote
	SubmittedBy string
	// inserted is the amendment as this transaction inserted it, APPLIED
	// and with its history, when it opens and applies it; nil for one
	// recorded before.
	inserted *domain.Amendment
}

// applyLocked writes a recorded amendment's quote to its contract, which the
// transaction holds locked, and marks the amendment APPLIED with event
// applied: who triggered the apply (the submitter, an approver or the
// scheduler), and when. One inserted APPLIED has that event already. ann
// gathers what the apply announces, after what the transaction gathered
// before it.
func applyLocked(ctx context.Context, tx *sqlx.Tx, ct lockedContract, am recordedAmendment, applied domain.AmendmentEvent, ann *announcements) (Applied, error) {
	var out Applied
	tenantID, id, q, now := am.TenantID, am.ID, am.Quote, applied.At
	if ct.Version != q.BaseVersion {
		// Cannot happen while every change re-prices the timeline; refuse rather than lose an update.
		return out, domain.Errorf(domain.KindConflict, "contractId", "contract %s changed since amendment %s was priced (version %d, expected %d)", ct.Number, id, ct.Version, q.BaseVersion)
	}
	// writeAmendedContract counts the version up by one, under the lock.
	out.Contract, out.ContractVersion = ct.Contract, ct.Version+1
	// Announced alone, its events are known before its writes and go with
	// the last of them (see announcedAmendment): the contract's, or its
	// invoice's when that writes nothing but its row.
	alone := announcesOnlyItself(am) && len(*ann) == 0
	if alone && q.InvoicePreview == nil {
		out.Amendment = *am.inserted
		announced, err := appliedEvents(ctx, tx, tenantID, out.Amendment, now)
		if err != nil {
			return out, err
		}
		return out, writeAmendedContract(ctx, tx, ct, am, announced, now)
	}
	if err := writeAmendedContract(ctx, tx, ct, am, nil, now); err != nil {
		return out, err
	}
	if cg := q.Crossgrade; cg != nil && cg.Discount != nil {
		if err := redeemDiscount(ctx, tx, tenantID, ct.ID, id, cg.Discount.Code, now); err != nil {
			return out, err
		}
	}
	inv, err := planAmendmentInvoice(ctx, tx, ct.ID, am, now)
	if err != nil {
		return out, err
	}
	if am.inserted != nil {
		// Nothing since its insert has changed the row or added to it but
		// its invoice, known before it is written.
		out.Amendment = *am.inserted
		out.Amendment.Invoice = inv.invoice()
	}
	if alone && inv.writesOnlyItself() {
		announced, err := appliedEvents(ctx, tx, tenantID, out.Amendment, now)
		if err != nil {
			return out, err
		}
		_, err = inv.record(ctx, tx, now, announced)
		return out, err
	}
	settled, err := inv.record(ctx, tx, now, nil)
	if err != nil {
		return out, err
	}
	if am.inserted == nil {
		if err := markApplied(ctx, tx, tenantID, id, now); err != nil {
			return out, err
		}
		if err := insertEvents(ctx, tx, id, applied); err != nil {
			return out, err
		}
		if out.Amendment, err = loadAmendment(ctx, tx, tenantID, id); err != nil {
			return out, err
		}
	}
	announced, err := appliedEvents(ctx, tx, tenantID, out.Amendment, now)
	if err != nil {
		return out, err
	}
	ann.add(announced...)
	ann.add(settled...)
	return out, nil
}

// announcesOnlyItself reports whether am, opened and applied by one
// transaction, is announced by its own events alone (its status, and its
// invoice if it raises one), known before its writes: it redeems no
// discount and changes neither its contract's status nor its term (see
// appliedEvents).
func announcesOnlyItself(am recordedAmendment) bool {
	q := am.Quote
	return am.inserted != nil && contractEvent(q) == "" && (q.Crossgrade == nil || q.Crossgrade.Discount == nil)
}

// markApplied marks an open amendment APPLIED. Only an open amendment is
// applied, whatever was read before. Its workflow, which applies it, learns
// its final quote from this.
func markApplied(ctx context.Context, tx *sqlx.Tx, tenantID, id string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE amendments SET status = $3, updated_at = $4, rebase_pending = false WHERE tenant_id = $1 AND id = $2 AND `+isOpen,
		tenantID, id, domain.StatusApplied, now)
	if err != nil {
		return fmt.Errorf("mark amendment applied: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return domain.Errorf(domain.KindConflict, "", "amendment %s is no longer open", id)
	}
	return nil
}

// writeAmendedContract writes the contract's new terms and a segment for
// them, closing the one they supersede, and appends events, in one
// statement (a crossgrade's or a renewal's own terms are written first);
// its submitter is their editor.
func writeAmendedContract(ctx context.Context, tx *sqlx.Tx, ct lockedContract, am recordedAmendment, events []newEvent, now time.Time) error {
	tenantID, q, actor := am.TenantID, am.Quote, am.SubmittedBy
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
	terms := amendedTerms{Lines: linesJSON, Status: status, BillingPeriod: string(q.BillingPeriod), Crossgrade: q.Crossgrade != nil,
		Discount: discountJSON, Events: events}
	if cg := q.Crossgrade; cg != nil {
		if err := writeCrossgradeTerms(ctx, tx, tenantID, ct.Contract, *cg); err != nil {
			return err
		}
	}
	expires, err := writeRenewalTerms(ctx, tx, tenantID, ct.Contract, q, now)
	if err != nil {
		return err
	}
	seg := domain.Segment{
		EffectiveDate: q.EffectiveDate, ExpirationDate: expires, Currency: []string{ct.Currency},
		BillingCycleDay: ct.BillingCycleDay, BillingCycleType: domain.BillingCycleType(q.BillingPeriod), Status: status,
		Lines: q.LinesAfter, ID: uuid.NewString(), CreatedOn: now, UpdatedOn: now, CreatedBy: actor, UpdatedBy: actor,
	}
	ended := ""
	if prev := ct.current; prev != nil {
		seg.PreviousContractSegmentID = &prev.ID
		seg.PlanID = prev.PlanID
		// The superseded segment now ends where the new one starts; one that
		// started the same day never took effect (see domain.SegmentSuperseded).
		ended = domain.ContractExpired
		if prev.EffectiveDate.Equal(q.EffectiveDate) {
			ended = domain.SegmentSuperseded
		}
	}
	if len(q.LinesAfter) > 0 {
		seg.PlanID = q.LinesAfter[0].OfferingID
	}
	return insertSegment(ctx, tx, tenantID, ct.ID, seg, ended, &terms)
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
