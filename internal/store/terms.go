package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// writeRenewalTerms records what a renewal or a change of renewal terms
// does besides lines: a renewal moves the expiration date and starts a new
// term (one applied after its date, the service having been down, resumes
// billing with the period running on the day it applied: the periods that
// ended meanwhile are not billed, as for a restarted schedule); a change of
// terms sets them. It
// returns the contract's expiration date once the change applies.
func writeRenewalTerms(ctx context.Context, tx *sqlx.Tx, tenantID string, ct domain.Contract, q domain.Quote, now time.Time) (domain.Date, error) {
	switch {
	case q.Renewal != nil:
		r := q.Renewal
		var resumes *domain.Date
		if today := domain.DateOf(now); today.After(r.TermStart) {
			// Late: the periods of the new term that ended before today are
			// not back-billed; the one running today is.
			current := domain.PeriodContaining(ct.EffectiveDate, ct.BillingCycleDay, q.BillingPeriod, today).Start
			if current.After(r.TermStart) {
				resumes = &current
			}
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE contracts SET expiration_date = $3, term_start = $4,
				schedule_resumes_on = GREATEST(schedule_resumes_on, $5::date)
			WHERE tenant_id = $1 AND id = $2`, tenantID, ct.ID, r.TermEnd, r.TermStart, resumes)
		if err != nil {
			return domain.Date{}, fmt.Errorf("start contract's new term: %w", err)
		}
		return r.TermEnd, nil
	case q.Terms != nil:
		t := q.Terms
		_, err := tx.ExecContext(ctx, `
			UPDATE contracts SET renewal_mode = $3, renewal_term_months = $4, renewal_uplift_bp = $5, renewal_notice_days = $6
			WHERE tenant_id = $1 AND id = $2`, tenantID, ct.ID, t.Mode, t.TermMonths, t.UpliftBasisPoints, t.NoticeDays)
		if err != nil {
			return domain.Date{}, fmt.Errorf("change contract's renewal terms: %w", err)
		}
	}
	return ct.ExpirationDate, nil
}

// TermEnd is what ending a contract's term found or did.
type TermEnd struct {
	// Outcome is one of domain's TermExpired, TermRenewing, TermUnchanged.
	Outcome string
	// Rebased reports that open amendments were ended, whose workflows are
	// then to be told (see TellRebased).
	Rebased bool
}

// EndTerm carries out the end of the contract's term that ends on end,
// under the contract's lock, once: unless an accepted renewal is to apply
// on that date, the contract expires: status expired (billing stops at the
// end), every open amendment FAILED with the reason, and contract.expired
// announced. A change accepted for a date before the end
// that has not applied yet (the service was down) goes first: EndTerm then
// returns an error to retry, like an apply whose turn has not come.
func (s *Store) EndTerm(ctx context.Context, tenantID, contractID string, end domain.Date, renewalRefused string, now time.Time) (TermEnd, error) {
	out := TermEnd{Outcome: domain.TermUnchanged}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ct, err := lockContract(ctx, tx, tenantID, contractID)
		if err != nil {
			return err
		}
		now := ct.Now(now)
		if ct.Status != domain.ContractActive || !ct.ExpirationDate.Equal(end) || ct.Renewal.Mode == domain.Evergreen {
			return nil
		}
		timeline, err := loadTimeline(ctx, tx, ct.ID)
		if err != nil {
			return err
		}
		for _, p := range timeline {
			switch {
			case p.InProjection() && (p.Quote.EffectiveDate.Before(end) || p.Quote.CancelsContract):
				// Changes before the end apply first, and so does a
				// cancellation at the end, which ends the contract instead.
				return fmt.Errorf("end the term of contract %s after amendment %s: %w", ct.Number, p.ID, ErrNotYourTurn)
			case p.InProjection() && p.Quote.Action == domain.Renewal:
				out.Outcome = domain.TermRenewing
				return nil
			}
		}
		out.Outcome = domain.TermExpired
		note := fmt.Sprintf("contract %s expired at the end of its term on %s", ct.Number, end)
		why := ""
		if renewalRefused != "" {
			why = "its renewal was refused: " + renewalRefused
			note += "; " + why
		}
		var ann announcements
		for _, p := range timeline {
			if err := failOpen(ctx, tx, tenantID, p.ID, note, now, &ann); err != nil {
				return err
			}
		}
		out.Rebased = len(timeline) > 0
		if err := expireLocked(ctx, tx, tenantID, ct.Contract, why, now, &ann); err != nil {
			return err
		}
		return ann.append(ctx, tx)
	})
	return out, err
}

// expireLocked ends the contract. Its payment schedule stops with it:
// billing bills no period after the end, while the periods the term
// covered are still billed and collected, dunning included, which a
// Terminated schedule would stop; so the schedule's own status, which only
// a DDCMS request changes, is left as it is. ann gathers contract.expired,
// which says why, when there is more to say than that the term ended.
func expireLocked(ctx context.Context, tx *sqlx.Tx, tenantID string, ct domain.Contract, why string, now time.Time, ann *announcements) error {
	if _, err := tx.ExecContext(ctx, `UPDATE contracts SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
		tenantID, ct.ID, domain.ContractExpired, now); err != nil {
		return fmt.Errorf("expire contract %s: %w", ct.Number, err)
	}
	ev, err := contractEventOf(ctx, tx, tenantID, ct.ID, nil, EventContractExpired, now)
	if err != nil {
		return err
	}
	if loaded, ok := ev.Data.(domain.Contract); ok && why != "" {
		ev.Data = expiredContract{Contract: loaded, ExpiredBecause: why}
	}
	ann.add(ev)
	return nil
}

// expiredContract is contract.expired's data for a contract that expired
// for a reason beyond its term's end: the contract, and why.
type expiredContract struct {
	domain.Contract
	ExpiredBecause string `json:"expiredBecause"`
}
