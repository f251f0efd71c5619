package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// maxNamedUsers bounds how many contracts a refusal names per item.
const maxNamedUsers = 10

// catalogUsage is what of a tenant's catalog its active contracts and its
// early-termination definitions use, for a new catalog to be checked against.
func catalogUsage(ctx context.Context, q sqlx.QueryerContext, tenantID string) (domain.CatalogUsage, error) {
	var lines []struct {
		OfferingID string         `db:"offering_id"`
		RateID     string         `db:"rate_id"`
		Count      int            `db:"contract_count"`
		Contracts  pq.StringArray `db:"contracts"`
		Currencies pq.StringArray `db:"currencies"`
		Periods    pq.StringArray `db:"billing_periods"`
	}
	var terminations []struct {
		PenaltyServiceID int64         `db:"penalty_service_id"`
		Count            int           `db:"termination_count"`
		Terminations     pq.Int64Array `db:"terminations"`
	}
	var extents struct {
		Quantity         int64  `db:"quantity"`
		QuantityContract string `db:"quantity_contract"`
		Amount           int64  `db:"amount"`
		AmountContract   string `db:"amount_contract"`
	}
	var usage domain.CatalogUsage
	err := sqlx.SelectContext(ctx, q, &lines, `
		SELECT l->>'offeringId' AS offering_id, l->>'rateId' AS rate_id, count(*) AS contract_count,
			(array_agg(c.number ORDER BY c.ref))[1:`+fmt.Sprint(maxNamedUsers)+`] AS contracts,
			array_agg(DISTINCT c.currency ORDER BY c.currency) AS currencies,
			array_agg(DISTINCT c.billing_period ORDER BY c.billing_period) AS billing_periods
		FROM contracts c CROSS JOIN LATERAL jsonb_array_elements(c.lines) l
		WHERE c.tenant_id = $1 AND c.status = $2
		GROUP BY 1, 2 ORDER BY 1, 2`, tenantID, domain.ContractActive)
	if err != nil {
		return usage, fmt.Errorf("catalog usage by contracts: %w", err)
	}
	err = sqlx.SelectContext(ctx, q, &terminations, `
		SELECT penalty_service_id, count(*) AS termination_count,
			(array_agg(id ORDER BY id))[1:`+fmt.Sprint(maxNamedUsers)+`] AS terminations
		FROM contract_terminations WHERE tenant_id = $1
		GROUP BY 1 ORDER BY 1`, tenantID)
	if err != nil {
		return usage, fmt.Errorf("catalog usage by terminations: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &extents, catalogExtents,
		tenantID, domain.ContractActive, domain.ContractExpired, domain.ScheduleActive, domain.SegmentSuperseded, ClockDeleted); err != nil {
		return usage, fmt.Errorf("catalog usage: the largest quantity and amount: %w", err)
	}
	usage.Quantity = domain.Extent{Value: extents.Quantity, Contract: extents.QuantityContract}
	usage.Amount = domain.Extent{Value: extents.Amount, Contract: extents.AmountContract}
	for _, l := range lines {
		periods := make([]domain.BillingPeriod, len(l.Periods))
		for i, p := range l.Periods {
			periods[i] = domain.BillingPeriod(p)
		}
		usage.Lines = append(usage.Lines, domain.LineUsage{
			OfferingID: l.OfferingID, RateID: l.RateID, Count: l.Count, Contracts: l.Contracts,
			Currencies: l.Currencies, BillingPeriods: periods,
		})
	}
	for _, t := range terminations {
		usage.PenaltyServices = append(usage.PenaltyServices, domain.PenaltyServiceUsage{ID: t.PenaltyServiceID, Count: t.Count, Terminations: t.Terminations})
	}
	return usage, nil
}

// catalogExtents finds the largest quantity, and the largest magnitude of a
// unit price, a line's amount or a contract's total, on the lines a billing
// run may still price for the tenant ($1), each with a contract holding it
// (0 and "" for none): those of its active ($2) contracts, and of its
// expired ($3) ones whose last period is not invoiced yet (their schedule
// active, $4, resuming before their end, and not on a deleted test clock,
// $6), and of their segments (superseded ones aside, $5) that a period not
// invoiced yet may be priced at: a segment counts until a period starting
// on or after its successor's date has been invoiced (billed_from is the
// segment in force on the latest invoiced period's first day; none before
// it counts).
// Magnitudes are taken in numeric and capped at int64's largest, so no
// stored value can overflow the scan.
const catalogExtents = `
	WITH billable AS (
		SELECT c.id, c.number, c.lines, c.version,
			CASE WHEN c.version > 1 THEN (SELECT max(n.position) FROM contract_segments n
				WHERE n.contract_id = c.id AND n.status <> $5 AND n.effective_date <= (
					SELECT max(i.period_start) FROM invoices i WHERE i.contract_id = c.id AND i.kind = 'RECURRING')) END AS billed_from
		FROM contracts c
		WHERE c.tenant_id = $1 AND (c.status = $2 OR (c.status = $3 AND c.schedule_status = $4
			AND (c.schedule_resumes_on IS NULL OR c.schedule_resumes_on < c.expiration_date)
			AND NOT EXISTS (SELECT 1 FROM test_clocks t WHERE t.id = c.test_clock_id AND t.status = $6)
			AND NOT EXISTS (
				SELECT 1 FROM invoices i
				WHERE i.contract_id = c.id AND i.kind = 'RECURRING' AND i.period_end >= c.expiration_date)))
	), priced AS (
		SELECT number, lines FROM billable
		UNION ALL
		SELECT b.number, s.lines FROM billable b JOIN contract_segments s ON s.contract_id = b.id
		WHERE b.version > 1 AND s.status <> $5 AND s.position >= COALESCE(b.billed_from, 0)
	), quantities AS (
		SELECT a.number, (p->>'quantity')::numeric AS n
		FROM priced a, jsonb_array_elements(a.lines) l, jsonb_array_elements(COALESCE(l->'products', '[]')) p
	), amounts AS (
		SELECT a.number, abs((p->>'unitPrice')::numeric) AS n
		FROM priced a, jsonb_array_elements(a.lines) l, jsonb_array_elements(COALESCE(l->'products', '[]')) p
		UNION ALL
		SELECT a.number, abs((l->>'recurringAmount')::numeric) FROM priced a, jsonb_array_elements(a.lines) l
		UNION ALL
		SELECT a.number, abs((SELECT sum((l->>'recurringAmount')::numeric) FROM jsonb_array_elements(a.lines) l)) FROM priced a
	), largest_quantity AS (
		SELECT number, n FROM quantities WHERE n IS NOT NULL ORDER BY n DESC, number LIMIT 1
	), largest_amount AS (
		SELECT number, n FROM amounts WHERE n IS NOT NULL ORDER BY n DESC, number LIMIT 1
	)
	SELECT
		COALESCE((SELECT least(n, 9223372036854775807)::bigint FROM largest_quantity), 0) AS quantity,
		COALESCE((SELECT number FROM largest_quantity), '') AS quantity_contract,
		COALESCE((SELECT least(n, 9223372036854775807)::bigint FROM largest_amount), 0) AS amount,
		COALESCE((SELECT number FROM largest_amount), '') AS amount_contract`
