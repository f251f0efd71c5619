package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// PutCatalog replaces the tenant's catalog in one statement.
func (s *Store) PutCatalog(ctx context.Context, tenantID, actorID string, c domain.Catalog) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode catalog: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO catalogs (tenant_id, document, updated_at, updated_by) VALUES ($1, $2, now(), $3)
		ON CONFLICT (tenant_id) DO UPDATE SET document = EXCLUDED.document, updated_at = now(), updated_by = EXCLUDED.updated_by`,
		tenantID, doc, actorID)
	if err != nil {
		return fmt.Errorf("store catalog: %w", err)
	}
	return nil
}

// Catalog returns the tenant's catalog; a tenant without one has an empty catalog.
func (s *Store) Catalog(ctx context.Context, tenantID string) (domain.Catalog, error) {
	return loadCatalog(ctx, s.db, tenantID)
}

func loadCatalog(ctx context.Context, q sqlx.QueryerContext, tenantID string) (domain.Catalog, error) {
	var doc []byte
	var c domain.Catalog
	err := q.QueryRowxContext(ctx, `SELECT document FROM catalogs WHERE tenant_id = $1`, tenantID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("load catalog: %w", err)
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		return c, fmt.Errorf("decode catalog: %w", err)
	}
	return c, nil
}
