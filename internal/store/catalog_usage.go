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
	}
	var terminations []struct {
		PenaltyServiceID int64         `db:"penalty_service_id"`
		Count            int           `db:"termination_count"`
		Terminations     pq.Int64Array `db:"terminations"`
	}
	var usage domain.CatalogUsage
	err := sqlx.SelectContext(ctx, q, &lines, `
		SELECT l->>'offeringId' AS offering_id, l->>'rateId' AS rate_id, count(*) AS contract_count,
			(array_agg(c.number ORDER BY c.ref))[1:`+fmt.Sprint(maxNamedUsers)+`] AS contracts
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
	for _, l := range lines {
		usage.Lines = append(usage.Lines, domain.LineUsage{OfferingID: l.OfferingID, RateID: l.RateID, Count: l.Count, Contracts: l.Contracts})
	}
	for _, t := range terminations {
		usage.PenaltyServices = append(usage.PenaltyServices, domain.PenaltyServiceUsage{ID: t.PenaltyServiceID, Count: t.Count, Terminations: t.Terminations})
	}
	return usage, nil
}
