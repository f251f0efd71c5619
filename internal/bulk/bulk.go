// Package bulk inserts many contracts straight into Postgres, for scale
// measurements (cmd/loadgen -seed) and for tests that need thousands of
// contracts at once (the fault-injection billing run): creating them through
// workflows would measure contract creation, not what comes after.
package bulk

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/payments"
)

// Batch is how many contracts one seeding transaction writes: a million
// contracts go in as fifty statements of each kind, not a million, and a
// failure loses at most one batch.
const Batch = 20_000

// AccountSize is how many seeded contracts share an account, so that a list
// filtered by account reads a handful, as a real tenant's would.
const AccountSize = 5

// Lines is the line the demo's off_team plan gives a new contract with five
// seats; RecurringAmount is what a whole month of it costs.
const (
	Lines           = `[{"offeringId":"off_team","rateId":"rate_team_monthly_usd","salesItemCode":"TEAM-M","products":[{"productId":"prod_seat","quantity":5,"unitPrice":1500},{"productId":"prod_storage","quantity":1,"unitPrice":500}],"recurringAmount":8000}]`
	RecurringAmount = 8000
)

// Options shape a seeding.
type Options struct {
	// DeclinedPercent of the contracts (0-100) pay with the sandbox's
	// declining payment method (payments.MethodDeclined), the rest with
	// payments.MethodOK: in each hundred contracts seeded, the first
	// DeclinedPercent.
	DeclinedPercent int
	// Progress, if set, gets a line per batch and one at the end.
	Progress io.Writer
}

// Contracts bulk-inserts n active monthly contracts, effective today and
// billed on today's day of the month, for the tenant with the given prefix.
// Each gets what CreateContracts writes for it (a numbered contract, its
// first segment and its schedule's first event), five contracts to an
// account and one contract action per batch; only the contract.created
// outbox events are left out. It returns the new contracts' ids.
func Contracts(ctx context.Context, db *sqlx.DB, prefix string, n int, opts Options) ([]string, error) {
	if opts.DeclinedPercent < 0 || opts.DeclinedPercent > 100 {
		return nil, fmt.Errorf("declined percent %d is not between 0 and 100", opts.DeclinedPercent)
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	var tenantID string
	if err := db.GetContext(ctx, &tenantID, `SELECT id FROM tenants WHERE prefix = $1`, prefix); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", prefix, err)
	}
	run := fmt.Sprintf("SEED%d", start.UnixNano())
	ids := make([]string, 0, n)
	for done := 0; done < n; done += Batch {
		batch, err := contractBatch(ctx, db, tenantID, fmt.Sprintf("%s-%d", run, done), min(Batch, n-done), opts.DeclinedPercent)
		if err != nil {
			return nil, err
		}
		ids = append(ids, batch...)
		fmt.Fprintf(progress, "  seeded %d/%d contracts\n", len(ids), n)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE contracts; ANALYZE contract_segments; ANALYZE schedule_events; ANALYZE accounts`); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "seeded %d contracts in %s\n", n, time.Since(start).Round(time.Millisecond))
	return ids, nil
}

// contractBatch writes one batch in one transaction. The contract numbers
// are taken from the tenant's counter in one step, as nextNumber would take
// them one by one.
func contractBatch(ctx context.Context, db *sqlx.DB, tenantID, batch string, n, declinedPercent int) ([]string, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	actor := "00000000-0000-4000-8000-0000000000a1"
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO accounts (id, tenant_id, number, created_at)
		SELECT gen_random_uuid(), $1, $2 || '-' || g, now() FROM generate_series(0, ($3 - 1) / $4) AS g`,
		tenantID, batch, n, AccountSize); err != nil {
		return nil, fmt.Errorf("seed accounts: %w", err)
	}
	var actionID string
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO contract_actions (id, tenant_id, number, account_id, action_type, request_hash, response, source, created_at, created_by)
		SELECT gen_random_uuid(), $1, 'CA-' || $2, id, 'seed', '', '{}', 'USER', now(), $3
		FROM accounts WHERE tenant_id = $1 AND number = $2 || '-0' RETURNING id`,
		tenantID, batch, actor).Scan(&actionID)
	if err != nil {
		return nil, fmt.Errorf("seed contract action: %w", err)
	}
	var last int64
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO tenant_counters (tenant_id, name, value) VALUES ($1, 'CT', $2)
		ON CONFLICT (tenant_id, name) DO UPDATE SET value = tenant_counters.value + $2
		RETURNING value`, tenantID, n).Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("seed contract numbers: %w", err)
	}
	var ids []string
	err = tx.SelectContext(ctx, &ids, `
		WITH created AS (
			INSERT INTO contracts (id, tenant_id, account_id, contract_action_id, number, status, effective_date, expiration_date,
				currency, billing_period, billing_cycle_day, payment_method, protected, lines, schedule_status, version,
				created_at, updated_at, created_by, updated_by)
			SELECT gen_random_uuid(), $1, a.id, $3, 'CT-' || lpad((g + $6)::text, 10, '0'), 'active', current_date, current_date + 1095,
				'USD', 'MONTHLY', extract(day FROM current_date),
				CASE WHEN (g - 1) % 100 < $9 THEN $10 ELSE $11 END, false, $7::jsonb,
				'Active', 1, now(), now(), $4, $4
			FROM generate_series(1, $5) AS g
			JOIN accounts a ON a.tenant_id = $1 AND a.number = $2 || '-' || ((g - 1) / $8)
			ORDER BY g
			RETURNING id, effective_date, expiration_date, billing_cycle_day, lines, created_at
		), segments AS (
			INSERT INTO contract_segments (id, tenant_id, contract_id, effective_date, expiration_date, currency, plan_id,
				billing_cycle_day, billing_cycle_type, status, lines, created_at, updated_at, created_by, updated_by, position)
			SELECT gen_random_uuid(), $1, id, effective_date, expiration_date, 'USD', 'off_team',
				billing_cycle_day, 'monthly', 'active', lines, created_at, created_at, $4, $4, 1
			FROM created
		), events AS (
			INSERT INTO schedule_events (tenant_id, contract_id, status, actor_id, source, at, position)
			SELECT $1, id, 'Active', $4, 'USER', created_at, 1 FROM created
		)
		SELECT id FROM created`,
		tenantID, batch, actionID, actor, n, last-int64(n), Lines, AccountSize,
		declinedPercent, payments.MethodDeclined, payments.MethodOK)
	if err != nil {
		return nil, fmt.Errorf("seed contracts: %w", err)
	}
	return ids, tx.Commit()
}
