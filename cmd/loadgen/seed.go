package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/bulk"
)

// seedContracts bulk-inserts n active contracts for the tenant with the given
// prefix straight into Postgres (see bulk.Contracts), declinedPercent of them
// paying with the sandbox's declining payment method, and returns their ids.
func seedContracts(ctx context.Context, databaseURL, prefix string, n, declinedPercent int) ([]string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return bulk.Contracts(ctx, db, prefix, n, bulk.Options{DeclinedPercent: declinedPercent, Progress: os.Stderr})
}

// quietContracts returns up to n of the tenant's active contracts with no
// open amendment, at random, for -existing.
func quietContracts(ctx context.Context, databaseURL, prefix string, n int) ([]string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var ids []string
	err = db.SelectContext(ctx, &ids, `
		SELECT c.id FROM contracts c JOIN tenants t ON t.id = c.tenant_id
		WHERE t.prefix = $1 AND c.status = 'active' AND NOT EXISTS (
			SELECT 1 FROM amendments m WHERE m.contract_id = c.id AND m.status IN ('PENDING', 'SCHEDULED', 'REVIEW'))
		ORDER BY random() LIMIT $2`, prefix, n)
	if err != nil {
		return nil, fmt.Errorf("existing contracts: %w", err)
	}
	fmt.Fprintf(os.Stderr, "using %d existing contracts\n", len(ids))
	return ids, nil
}
