package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// The work of an advance (domain.CountClockWork) is counted on the clock's
// active contracts and their open amendments as they stand: when the
// advance is asked for (StartAdvance), and again, while it is under way,
// when a contract is created on the clock or a change of one of its
// contracts is opened, so that neither takes it past the bound after it
// was checked.

// clockContracts reads the clock's active contracts, with their open
// amendments but renewals, as the work of an advance is counted on them.
func clockContracts(ctx context.Context, q sqlx.QueryerContext, tenantID, clockID string) ([]domain.ClockContract, error) {
	var rows []struct {
		ID             string               `db:"id"`
		Mode           string               `db:"renewal_mode"`
		TermMonths     int                  `db:"renewal_term_months"`
		NoticeDays     int                  `db:"renewal_notice_days"`
		EffectiveDate  domain.Date          `db:"effective_date"`
		ExpirationDate domain.Date          `db:"expiration_date"`
		TermStart      domain.Date          `db:"term_start"`
		CycleDay       int                  `db:"billing_cycle_day"`
		Period         domain.BillingPeriod `db:"billing_period"`
		ScheduleStatus string               `db:"schedule_status"`
		ResumesOn      domain.Date          `db:"schedule_resumes_on"`
		BilledThrough  domain.Date          `db:"billed_through"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT c.id, c.renewal_mode, c.renewal_term_months, c.renewal_notice_days, c.effective_date, c.expiration_date, c.term_start,
			c.billing_cycle_day, c.billing_period, c.schedule_status, c.schedule_resumes_on, `+billedThrough+` AS billed_through
		FROM contracts c WHERE c.tenant_id = $1 AND c.test_clock_id = $2 AND c.status = $3 ORDER BY c.ref`,
		tenantID, clockID, domain.ContractActive); err != nil {
		return nil, fmt.Errorf("read the contracts of test clock %s: %w", clockID, err)
	}
	changes, err := clockChanges(ctx, q, tenantID, clockID)
	if err != nil {
		return nil, err
	}
	out := make([]domain.ClockContract, len(rows))
	for i, r := range rows {
		out[i] = domain.ClockContract{
			Renewal: domain.RenewalTerms{Mode: r.Mode, TermMonths: r.TermMonths, NoticeDays: r.NoticeDays},
			Billing: domain.BillingTerms{
				EffectiveDate: r.EffectiveDate, ExpirationDate: r.ExpirationDate, CycleDay: r.CycleDay, Period: r.Period,
				TermStart: r.TermStart, ResumesOn: r.ResumesOn, BilledThrough: r.BilledThrough,
			},
			Bills:   r.ScheduleStatus == domain.ScheduleActive,
			Changes: changes[r.ID],
		}
	}
	return out, nil
}

// clockChanges reads the open amendments but renewals of the clock's
// active contracts, by contract, in date order: what of each counts.
func clockChanges(ctx context.Context, q sqlx.QueryerContext, tenantID, clockID string) (map[string][]domain.ClockChange, error) {
	var rows []struct {
		ContractID string               `db:"contract_id"`
		Date       domain.Date          `db:"effective_date"`
		Status     string               `db:"status"`
		Cancels    bool                 `db:"cancels"`
		Period     domain.BillingPeriod `db:"period"`
		Terms      []byte               `db:"terms"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT a.contract_id, a.effective_date, a.status, coalesce((a.quote->>'cancelsContract')::boolean, false) AS cancels,
			coalesce(a.quote->>'billingPeriod', '') AS period, a.quote->'renewalTerms' AS terms
		FROM amendments a JOIN contracts c ON c.id = a.contract_id
		WHERE c.tenant_id = $1 AND c.test_clock_id = $2 AND c.status = $3 AND a.status = ANY($4) AND a.action <> $5
		ORDER BY a.contract_id, a.effective_date, a.created_at, a.id`,
		tenantID, clockID, domain.ContractActive, pq.StringArray(domain.OpenStatuses), domain.Renewal); err != nil {
		return nil, fmt.Errorf("read the open amendments of test clock %s: %w", clockID, err)
	}
	out := map[string][]domain.ClockChange{}
	for _, r := range rows {
		ch := domain.ClockChange{Date: r.Date, Accepted: domain.Accepted(r.Status), Cancels: r.Cancels, Period: r.Period}
		if len(r.Terms) > 0 && string(r.Terms) != "null" {
			ch.Terms = new(domain.RenewalTerms)
			if err := json.Unmarshal(r.Terms, ch.Terms); err != nil {
				return nil, fmt.Errorf("decode the renewal terms of an amendment of contract %s: %w", r.ContractID, err)
			}
		}
		out[r.ContractID] = append(out[r.ContractID], ch)
	}
	return out, nil
}

// refuseOverAdvance refuses what tx has just written to the clock's
// contracts (kind, field and what as domain.CheckAdvanceUnderWay says)
// when the clock is advancing and the rest of its advance, with it, would
// carry out more than domain.MaxClockAdvanceWork less the work of the
// tenant's other advances under way; what it lets through raises the
// advance's hold of the tenant's budget. tx holds the clock, locked or
// shared, so no step moves it meanwhile.
func refuseOverAdvance(ctx context.Context, tx *sqlx.Tx, tenantID, clockID string, kind domain.Kind, field, what string) error {
	var c struct {
		Status     string     `db:"status"`
		FrozenTime time.Time  `db:"frozen_time"`
		TargetTime *time.Time `db:"target_time"`
	}
	if err := tx.GetContext(ctx, &c, `SELECT status, frozen_time, target_time FROM test_clocks WHERE id = $1`, clockID); err != nil {
		return fmt.Errorf("read test clock %s: %w", clockID, err)
	}
	if c.Status != ClockAdvancing || c.TargetTime == nil {
		return nil
	}
	// The lock first: what another change of the clock's contracts writes
	// is then committed, and counted below, before this one is.
	underWay, err := workUnderWay(ctx, tx, tenantID, clockID)
	if err != nil {
		return err
	}
	contracts, err := clockContracts(ctx, tx, tenantID, clockID)
	if err != nil {
		return err
	}
	w, err := domain.CheckAdvanceUnderWay(kind, field, what, clockID, contracts, c.FrozenTime, *c.TargetTime, underWay)
	if err != nil {
		return err
	}
	return holdWork(ctx, tx, tenantID, clockID, w.Work.Total(), true)
}
