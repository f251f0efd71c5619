package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
)

// seedContracts bulk-inserts n active contracts for the tenant with the given
// prefix straight into Postgres, for scale measurements: creating 100,000
// contracts through workflows would measure contract creation, not reads.
// They share one account and one contract action, and have no segments.
// It returns the new contracts' ids.
func seedContracts(ctx context.Context, databaseURL, prefix string, n int) ([]string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	start := time.Now()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	var tenantID string
	if err := tx.GetContext(ctx, &tenantID, `SELECT id FROM tenants WHERE prefix = $1`, prefix); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", prefix, err)
	}
	var accountID, actionID, actor string
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO accounts (id, tenant_id, number, created_at) VALUES (gen_random_uuid(), $1, 'SEED-' || gen_random_uuid(), now())
		RETURNING id`, tenantID).Scan(&accountID)
	if err != nil {
		return nil, fmt.Errorf("seed account: %w", err)
	}
	actor = "00000000-0000-4000-8000-0000000000a1"
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO contract_actions (id, tenant_id, number, account_id, action_type, request_hash, response, source, created_at, created_by)
		VALUES (gen_random_uuid(), $1, 'CA-SEED-' || gen_random_uuid(), $2, 'seed', '', '{}', 'USER', now(), $3) RETURNING id`,
		tenantID, accountID, actor).Scan(&actionID)
	if err != nil {
		return nil, fmt.Errorf("seed contract action: %w", err)
	}
	var ids []string
	err = tx.SelectContext(ctx, &ids, `
		INSERT INTO contracts (id, tenant_id, account_id, contract_action_id, number, status, effective_date, expiration_date,
			currency, billing_period, billing_cycle_day, payment_method, protected, lines, schedule_status, version,
			created_at, updated_at, created_by, updated_by)
		SELECT gen_random_uuid(), $1, $2, $3, $6 || g, 'active', current_date, current_date + 1095,
			'USD', 'MONTHLY', extract(day FROM current_date), 'pm_ok', false,
			'[{"offeringId":"off_team","rateId":"rate_team_monthly_usd","salesItemCode":"TEAM-M","products":[{"productId":"prod_seat","quantity":5},{"productId":"prod_storage","quantity":1}],"recurringAmount":8000}]',
			'Active', 1, now(), now(), $4, $4
		FROM generate_series(1, $5) AS g
		RETURNING id`, tenantID, accountID, actionID, actor, n, fmt.Sprintf("CT-SEED%d-", start.Unix()))
	if err != nil {
		return nil, fmt.Errorf("seed contracts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `ANALYZE contracts`); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "seeded %d contracts in %s\n", n, time.Since(start).Round(time.Millisecond))
	return ids, nil
}
