package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The catalog's advisory lock keeps a catalog replacement (PutCatalog) and
// the writes that put the catalog's items on contracts from interleaving: a
// contract's creation, and a change under its contract's lock as
// lockContract takes it (opening an amendment, which may apply it at once;
// applying one; ending a term). Each takes the tenant's advisory lock
// shared, before any other lock, and holds it until it commits; the
// replacement takes it exclusive, first too. So a replacement waits for the
// writes under way, and its check of the contracts that use what it drops
// (catalogUsage), read after it has the lock, sees their lines; and a write
// that comes while a replacement is under way waits for it, and reads the
// catalog in a statement after its lock: the new one. Without it, under
// READ COMMITTED, a change priced on the catalog as it was could commit a
// line whose offering a replacement, which could not see that line, had
// just dropped, and both would succeed. A "replacement" by the catalog
// already stored drops nothing, and takes no lock (catalogUnchanged).
//
// An amendment opened on the catalog as it was and applied after a
// replacement does not get past it either: the replacement, under the lock,
// sees it open and re-prices every open amendment of the tenant's contracts
// under their locks (rebaseTenantLocked), and one whose offering, rate or
// product it dropped fails. The writes that only re-price amendments
// (approving, withdrawing or rejecting one, a payment schedule's change)
// take their contract's lock without the advisory lock: a replacement under
// way re-prices the contract after them, once it has the contract's lock.
//
// It is an advisory lock rather than a share lock on the catalog's row,
// which every change of the tenant would take: a row's share lock writes
// the row (a multixact once two changes hold it, which every read of the
// catalog then looks up), where an advisory lock stays in memory; new share
// locks on a row are granted past a writer waiting for it for as long as
// changes overlap, where a replacement waiting for the advisory lock goes
// before the changes that ask after it; and termination writes, which lock
// the catalog's row, leave changes alone. Taken first, by a transaction
// holding no other lock, it closes no cycle: a replacement goes on to lock
// the contracts whose amendments it re-prices, and a change waiting for
// the advisory lock holds none of them.

// catalogLockWait is the longest a catalog replacement waits for each of
// its locks (lockForReplacement). The changes that share the advisory lock
// hold it for one short transaction each, so a replacement normally has it
// in milliseconds; one that waits longer is behind a transaction held open
// (a stuck or very slow change, a termination write, an operator's session),
// and would otherwise wait without bound, its request and connection held,
// while every change of the tenant sent meanwhile queues behind it. After
// this long it gives up and is answered busy, to be sent again (503 with
// Retry-After): nothing was stored.
const catalogLockWait = 5 * time.Second

// catalogLockClass is the first key of a tenant's advisory lock, naming
// what it guards; the second is the tenant's id, hashed (two tenants whose
// ids hash alike take turns for nothing, no more). The migrations' advisory
// lock has one key, which no two-key lock can be.
const catalogLockClass = 0x63617461 // "cata"

// catalogLockKeys are the keys of the advisory lock of the tenant $1's catalog.
var catalogLockKeys = fmt.Sprintf(`%d, hashtext($1::uuid::text)`, catalogLockClass)

// sharingCatalogAdvisory is a condition, true, that takes the advisory lock
// of the tenant $1's catalog shared. Its sub-select names no row of the
// statement: Postgres evaluates it once (a one-time filter), before the
// statement reads a row, so the statement takes it before any row's lock.
var sharingCatalogAdvisory = `(SELECT true FROM pg_advisory_xact_lock_shared(` + catalogLockKeys + `))`

// lockCatalogAdvisory takes the advisory lock of the tenant's catalog
// exclusive, for a replacement of the catalog.
func lockCatalogAdvisory(ctx context.Context, tx *sqlx.Tx, tenantID string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+catalogLockKeys+`)`, tenantID); err != nil {
		return fmt.Errorf("take the catalog's advisory lock exclusive: %w", err)
	}
	return nil
}
