package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// PutCatalog replaces the tenant's catalog. It refuses (400, listing each
// offering) a catalog whose offerings default to a contract termination the
// tenant does not have, or that defines a new id people could not read
// or tell apart (domain.Catalog.CheckStored), and (a conflict naming
// them) a catalog that drops or changes what is in use
// (domain.Catalog.CheckKeeps): an offering, rate or sales item of an active
// contract, such a rate's billing period or currency, or a penalty service
// a contract termination names, so a termination's penaltyServiceName never
// silently becomes "". The catalog's advisory lock is taken exclusive
// first, so the contracts' creations and changes under way commit before
// what they use is read, and those that come after read the new catalog
// (see catalog_lock.go); then the catalog row, as termination writers lock
// it, so no termination can take up a service while it is being dropped.
// at is the business time of the replacement, recorded as its updated_at.
// A catalog equal to the stored one is answered without a lock and stores
// nothing (catalogUnchanged); one that changes only the default renewal
// terms re-prices nothing (domain.Catalog.PricesAlike).
func (s *Store) PutCatalog(ctx context.Context, tenantID, actorID string, c domain.Catalog, at time.Time) (rebased bool, err error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encode catalog: %w", err)
	}
	if unchanged, err := s.catalogUnchanged(ctx, tenantID, &c, doc); unchanged || err != nil {
		return false, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		known, err := lockForReplacement(ctx, tx, tenantID, &c)
		if err != nil {
			return err
		}
		current, err := loadCatalog(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := checkReplacement(ctx, tx, tenantID, &c, &current, known); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO catalogs (tenant_id, document, updated_at, updated_by) VALUES ($1, $2, $4, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
			tenantID, doc, actorID, at); err != nil {
			return fmt.Errorf("store catalog: %w", err)
		}
		if c.PricesAlike(&current) {
			return nil // only the default renewal terms changed, which no open amendment's price reads
		}
		// Pending amendments are priced with the catalog as it is when they
		// apply: each is priced again now, and fails if it no longer holds.
		var ann announcements
		if rebased, err = rebaseTenantLocked(ctx, tx, tenantID, at, &ann); err != nil {
			return err
		}
		return ann.append(ctx, tx)
	})
	return rebased, busyAs(err, "the tenant's catalog", catalogLockWait)
}

// lockForReplacement takes, in tx, the locks a replacement of the tenant's
// catalog by c holds until it commits: the catalog's advisory lock
// exclusive, the catalog's row, and the contract terminations c names,
// each waited for at most catalogLockWait (a longer wait ends the
// transaction; PutCatalog answers it as busy). It returns which of those
// terminations are the tenant's.
func lockForReplacement(ctx context.Context, tx *sqlx.Tx, tenantID string, c *domain.Catalog) (map[int64]bool, error) {
	if err := setLockTimeout(ctx, tx, catalogLockWait); err != nil {
		return nil, err
	}
	if err := lockCatalogAdvisory(ctx, tx, tenantID); err != nil {
		return nil, err
	}
	if err := lockCatalog(ctx, tx, tenantID); err != nil {
		return nil, err
	}
	known, err := catalogTerminations(ctx, tx, tenantID, c, true)
	if err != nil {
		return nil, err
	}
	// The contracts whose amendments it then re-prices are locked by
	// writes that hold no catalog lock (an approval, a withdrawal, a
	// schedule change), one short transaction each: those waits are left
	// as everywhere else, so that no re-pricing is thrown away.
	return known, restoreLockTimeout(ctx, tx)
}

// catalogUnchanged reports whether the stored document of the tenant's
// catalog is doc, c's encoding, and if so answers the replacement by c as
// PutCatalog would, with the refusal it would give (checkReplacement: a
// catalog stored before a check may fail it unchanged) or nil, storing
// nothing: not even updated_at, nor a new version, which would only make
// every process read and decode the catalog again. Documents are compared
// as jsonb, which ignores key order; a catalog the same but spelt otherwise
// (a null list sent as []) is stored as a change, once.
//
// It takes no lock, and waits for none: an operator saving an unchanged
// catalog again and again would otherwise take the exclusive advisory lock
// each time, wait for the tenant's changes under way, hold off those sent
// meanwhile, and re-price every open amendment for nothing. That is safe:
// every read is in one snapshot, taken during the request, and answers as
// a replacement committed at that moment would, when the catalog was c.
// Such a replacement would write the same document and change no price;
// a change under way holds the advisory lock shared, so it was priced on
// this catalog too and adds nothing a check of c refuses; and whatever
// commits after the snapshot (another replacement, a termination's
// deletion detaching an offering) is ordered after this PUT, as if it had
// come after it. Reads in READ COMMITTED would each see their own moment:
// a replacement committing between them could have the usage of its new
// offerings checked against c.
func (s *Store) catalogUnchanged(ctx context.Context, tenantID string, c *domain.Catalog, doc []byte) (unchanged bool, err error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // it wrote nothing
	if err := tx.GetContext(ctx, &unchanged, `SELECT EXISTS (SELECT 1 FROM catalogs WHERE tenant_id = $1 AND document = $2::jsonb)`,
		tenantID, doc); err != nil {
		return false, fmt.Errorf("compare with the stored catalog: %w", err)
	}
	if !unchanged {
		return false, nil
	}
	known, err := catalogTerminations(ctx, tx, tenantID, c, false)
	if err != nil {
		return true, err
	}
	return true, checkReplacement(ctx, tx, tenantID, c, c, known)
}

// checkReplacement refuses c as the replacement of current for what it
// defines (domain.Catalog.CheckStored, with the contract terminations known
// to be the tenant's) and for what it drops or changes that is in use
// (domain.Catalog.CheckKeeps).
func checkReplacement(ctx context.Context, tx *sqlx.Tx, tenantID string, c, current *domain.Catalog, known map[int64]bool) error {
	if err := c.CheckStored(current, known); err != nil {
		return err
	}
	usage, err := catalogUsage(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	return c.CheckKeeps(current, usage)
}

// catalogTerminations returns which of the contract terminations the
// catalog's offerings name are the tenant's (domain.Catalog.CheckStored
// refuses the others). With lock, for a catalog to be stored, it locks them
// (FOR KEY SHARE, in ascending id order as termination writers lock them)
// until commit, so none is deleted before the catalog naming it is stored;
// one deleted before is not found. A deletion that waited for the catalog
// lock, or for these, detaches the offerings of the catalog stored here
// (TerminationWriter.Delete).
func catalogTerminations(ctx context.Context, tx *sqlx.Tx, tenantID string, c *domain.Catalog, lock bool) (map[int64]bool, error) {
	ids := c.TerminationIDs()
	known := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return known, nil
	}
	query := `SELECT id FROM contract_terminations WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id`
	if lock {
		query += ` FOR KEY SHARE`
	}
	var found []int64
	if err := tx.SelectContext(ctx, &found, query, tenantID, pq.Int64Array(ids)); err != nil {
		return nil, fmt.Errorf("read the catalog's contract terminations: %w", err)
	}
	for _, id := range found {
		known[id] = true
	}
	return known, nil
}

func lockCatalog(ctx context.Context, tx *sqlx.Tx, tenantID string) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM catalogs WHERE tenant_id = $1 FOR UPDATE`, tenantID); err != nil {
		return fmt.Errorf("lock catalog: %w", err)
	}
	return nil
}

// Catalog returns the tenant's catalog; a tenant without one has an empty catalog.
// The catalog is shared with other callers (see catalogCache): it must not
// be modified.
func (s *Store) Catalog(ctx context.Context, tenantID string) (domain.Catalog, error) {
	return s.catalogs.load(ctx, s.db, tenantID)
}

// loadCatalog reads the tenant's catalog as a copy of its own, which the
// caller may modify; a tenant without one has an empty catalog.
func loadCatalog(ctx context.Context, q sqlx.QueryerContext, tenantID string) (domain.Catalog, error) {
	c, _, _, err := readCatalog(ctx, q, tenantID, "")
	return c, err
}

// readCatalog reads the tenant's catalog and its version (migration 0020).
// When the stored version is known, the caller holds that document already:
// Postgres does not send it and sent is false. A tenant without a catalog
// has an empty one, of version "".
func readCatalog(ctx context.Context, q sqlx.QueryerContext, tenantID, known string) (c domain.Catalog, version string, sent bool, err error) {
	var doc []byte
	err = q.QueryRowxContext(ctx, `SELECT version, CASE WHEN version::text = $2 THEN NULL ELSE document END
		FROM catalogs WHERE tenant_id = $1`, tenantID, known).Scan(&version, &doc)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, "", true, nil
	case err != nil:
		return c, "", false, fmt.Errorf("load catalog: %w", err)
	case doc == nil:
		return c, version, false, nil
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		return c, "", false, fmt.Errorf("decode catalog: %w", err)
	}
	return c, version, true, nil
}
