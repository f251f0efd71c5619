package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

const (
	terminationColumns = `id, penalty_service_id, name`
	chargeColumns      = `id, start_month, end_month, amount, currency`
	// contractsNamedInConflict bounds the contract numbers a refused delete lists.
	contractsNamedInConflict = 5
)

// Terminations lists the tenant's terminations in identity order, skipping
// offset of them; limit 0 means no limit.
func (s *Store) Terminations(ctx context.Context, tenantID string, offset int64, limit int) ([]domain.Termination, error) {
	var out []domain.Termination
	// LIMIT NULL is no limit.
	err := s.db.SelectContext(ctx, &out, `SELECT `+terminationColumns+` FROM contract_terminations
		WHERE tenant_id = $1 ORDER BY id OFFSET $2 LIMIT NULLIF($3, 0)`, tenantID, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("list contract terminations: %w", err)
	}
	return out, nil
}

// CountTerminations counts the tenant's terminations.
func (s *Store) CountTerminations(ctx context.Context, tenantID string) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM contract_terminations WHERE tenant_id = $1`, tenantID); err != nil {
		return 0, fmt.Errorf("count contract terminations: %w", err)
	}
	return n, nil
}

// Termination loads one of the tenant's terminations; ErrNotFound when the
// tenant has none with this id.
func (s *Store) Termination(ctx context.Context, tenantID string, id int64) (domain.Termination, error) {
	return loadTermination(ctx, s.db, tenantID, id, readUnlocked)
}

// Row locks a termination is read with. An edit's lock leaves the key
// alone (lockToEdit): a contract inserted meanwhile names the termination
// (its foreign key takes FOR KEY SHARE) without waiting for the edit, which
// would otherwise wait in turn for a second termination that contract
// action holds so. A deletion takes the whole row (lockToDelete), so that
// it waits for such an insert and then sees the contract that uses it.
const (
	readUnlocked = ""
	lockToEdit   = " FOR NO KEY UPDATE"
	lockToDelete = " FOR UPDATE"
)

func loadTermination(ctx context.Context, q sqlx.QueryerContext, tenantID string, id int64, lock string) (domain.Termination, error) {
	query := `SELECT ` + terminationColumns + ` FROM contract_terminations WHERE tenant_id = $1 AND id = $2` + lock
	var t domain.Termination
	err := sqlx.GetContext(ctx, q, &t, query, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("load contract termination: %w", err)
	}
	return t, nil
}

// TerminationCharges loads a termination's period charges in month order, for
// pricing a cancellation. ErrNotFound when the tenant has no such termination;
// one that exists may have no charges.
func (s *Store) TerminationCharges(ctx context.Context, tenantID string, id int64) ([]domain.TerminationCharge, error) {
	byTermination, err := loadCharges(ctx, s.db, tenantID, []int64{id})
	if err != nil {
		return nil, err
	}
	if charges := byTermination[id]; len(charges) > 0 {
		return charges, nil
	}
	if _, err := s.Termination(ctx, tenantID, id); err != nil {
		return nil, err
	}
	return nil, nil
}

// ChargesByTermination loads the period charges of several terminations,
// keyed by termination id, each list in month order.
func (s *Store) ChargesByTermination(ctx context.Context, tenantID string, ids []int64) (map[int64][]domain.TerminationCharge, error) {
	return loadCharges(ctx, s.db, tenantID, ids)
}

func loadCharges(ctx context.Context, q sqlx.QueryerContext, tenantID string, ids []int64) (map[int64][]domain.TerminationCharge, error) {
	var rows []struct {
		TerminationID int64 `db:"contract_termination_id"`
		domain.TerminationCharge
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT contract_termination_id, `+chargeColumns+`
		FROM contract_termination_period_charges WHERE tenant_id = $1 AND contract_termination_id = ANY($2)
		ORDER BY contract_termination_id, start_month, id`, tenantID, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("load period charges: %w", err)
	}
	out := make(map[int64][]domain.TerminationCharge, len(ids))
	for _, r := range rows {
		out[r.TerminationID] = append(out[r.TerminationID], r.TerminationCharge)
	}
	return out, nil
}

// TerminationWrite says whose terminations a write changes, who changes
// them and when: At is the business clock's time, recorded on every row the
// write stores (the catalog's too, when a deletion detaches offerings).
type TerminationWrite struct {
	TenantID string
	ActorID  string
	At       time.Time
}

// WriteTerminations runs fn's changes to the tenant's terminations in one
// transaction: all of them or, when fn or a final check fails, none. fn gets
// the context to pass to the writer's methods.
func (s *Store) WriteTerminations(ctx context.Context, by TerminationWrite, fn func(context.Context, *TerminationWriter) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The catalog is locked and read first: a termination is checked
		// against it, and PutCatalog takes the same lock before dropping a
		// penalty service, so neither can miss the other. Termination writes
		// of a tenant take turns; they are reference data, written rarely.
		if err := lockCatalog(ctx, tx, by.TenantID); err != nil {
			return err
		}
		cat, err := loadCatalog(ctx, tx, by.TenantID)
		if err != nil {
			return err
		}
		w := &TerminationWriter{tx: tx, tenantID: by.TenantID, actorID: by.ActorID, at: by.At, catalog: cat, chargesChanged: map[int64]bool{}}
		if err := fn(ctx, w); err != nil {
			return err
		}
		if err := w.checkRoom(ctx); err != nil {
			return err
		}
		return w.checkOverlaps(ctx)
	})
}

// TerminationWriter changes one tenant's terminations inside the transaction
// of WriteTerminations. Every method locks the termination it touches until
// commit, so concurrent writers of one termination take turns and the final
// overlap check sees every charge it must. Its methods take the context of
// the call, never one kept here.
type TerminationWriter struct {
	tx       *sqlx.Tx
	tenantID string
	actorID  string
	at       time.Time
	catalog  domain.Catalog
	// chargesChanged holds the terminations whose charges are checked for
	// overlaps before commit; checking the final set, not each step, lets one
	// patch move bands past each other.
	chargesChanged map[int64]bool
	// created counts the terminations the write created: one that created
	// any is held to MaxTerminationsPerTenant before commit (checkRoom).
	created int
}

// Catalog is the tenant's catalog, locked for the transaction: what the
// writes are checked against.
func (w *TerminationWriter) Catalog() *domain.Catalog { return &w.catalog }

// TerminationDeletion is everything deleting a termination removed.
type TerminationDeletion struct {
	ChargeIDs []int64
	// DetachedOfferings are the catalog offerings whose default termination it was.
	DetachedOfferings []string
}

// LockInOrder locks, before a write touching several terminations, each of
// edited and deleted in ascending id order, a deleted one as a deletion
// locks it and the others as an edit does; ids the tenant does not have
// are skipped (the write's own step reports them). The methods below lock
// again, which then waits for nothing. A contract action naming several
// terminations takes them in the same order (lockNamedTerminations): taken
// in the order of a patch's items, a write holding one and a contract
// action holding another could wait for each other.
func (w *TerminationWriter) LockInOrder(ctx context.Context, edited, deleted []int64) error {
	ids := slices.Concat(edited, deleted)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		lock := lockToEdit
		if slices.Contains(deleted, id) {
			lock = lockToDelete
		}
		if _, err := loadTermination(ctx, w.tx, w.tenantID, id, lock); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// Termination loads and locks a termination; ErrNotFound when the tenant has none with this id.
func (w *TerminationWriter) Termination(ctx context.Context, id int64) (domain.Termination, error) {
	return loadTermination(ctx, w.tx, w.tenantID, id, lockToEdit)
}

// Create stores a new termination and returns it with its identity.
func (w *TerminationWriter) Create(ctx context.Context, t domain.Termination) (domain.Termination, error) {
	err := w.tx.QueryRowxContext(ctx, `
		INSERT INTO contract_terminations (tenant_id, penalty_service_id, name, created_at, updated_at, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $4, $5, $5) RETURNING id`, w.tenantID, t.PenaltyServiceID, t.Name, w.at, w.actorID).Scan(&t.ID)
	if err != nil {
		return t, fmt.Errorf("insert contract termination: %w", err)
	}
	w.created++
	return t, nil
}

// MaxTerminationsPerTenant bounds a tenant's terminations: the seed's list
// (GET /api/v5/Contract/Termination) answers every one of them in one page,
// and each holds up to 1,201 period charges (their month ranges, 0 to
// 1,200, may not overlap). A catalog's 1,000 offerings may each name a
// termination of its own.
const MaxTerminationsPerTenant = 1000

// checkRoom refuses a write that created a termination and leaves the
// tenant with more than MaxTerminationsPerTenant (a patch may delete one
// and create another at the bound). A tenant's termination writes take
// turns under its catalog's row lock (WriteTerminations; a termination is
// only created on a catalog's penalty service, so the row exists), and the
// count is a statement of its own, whose snapshot is taken under the lock:
// two creations at once cannot both take the last place. A write creating
// none (an edit, a deletion) passes, even above the bound.
func (w *TerminationWriter) checkRoom(ctx context.Context) error {
	if w.created == 0 {
		return nil
	}
	var held int
	if err := w.tx.GetContext(ctx, &held, `SELECT count(*) FROM contract_terminations WHERE tenant_id = $1`, w.tenantID); err != nil {
		return fmt.Errorf("count contract terminations: %w", err)
	}
	if held > MaxTerminationsPerTenant {
		return domain.Errorf(domain.KindConflict, "", "a tenant has at most %d contract terminations; delete one (DELETE /api/v5/Contract/Termination/{id}) to create another", MaxTerminationsPerTenant)
	}
	return nil
}

// Update replaces a termination's fields.
func (w *TerminationWriter) Update(ctx context.Context, t domain.Termination) error {
	res, err := w.tx.ExecContext(ctx, `
		UPDATE contract_terminations SET penalty_service_id = $3, name = $4, updated_at = $5, updated_by = $6
		WHERE tenant_id = $1 AND id = $2`, w.tenantID, t.ID, t.PenaltyServiceID, t.Name, w.at, w.actorID)
	return affectedOne(res, err, "update contract termination")
}

// Delete removes a termination with its period charges and detaches it from
// the catalog offerings that default to it. A termination that contracts use
// is refused with a conflict naming them.
func (w *TerminationWriter) Delete(ctx context.Context, id int64) (TerminationDeletion, error) {
	var d TerminationDeletion
	if _, err := loadTermination(ctx, w.tx, w.tenantID, id, lockToDelete); err != nil {
		return d, err
	}
	if err := w.refuseIfUsed(ctx, id); err != nil {
		return d, err
	}
	if err := w.tx.SelectContext(ctx, &d.ChargeIDs, `
		DELETE FROM contract_termination_period_charges WHERE tenant_id = $1 AND contract_termination_id = $2 RETURNING id`,
		w.tenantID, id); err != nil {
		return d, fmt.Errorf("delete period charges: %w", err)
	}
	slices.Sort(d.ChargeIDs)
	_, err := w.tx.ExecContext(ctx, `DELETE FROM contract_terminations WHERE tenant_id = $1 AND id = $2`, w.tenantID, id)
	if isForeignKeyViolation(err, "contracts_contract_termination_fk") {
		// The row lock taken above waits for any contract insert that
		// references it, so refuseIfUsed sees it; the foreign key is the
		// backstop should that ever change.
		return d, domain.Errorf(domain.KindConflict, "", "contract termination %d is used by a contract", id)
	}
	if err != nil {
		return d, fmt.Errorf("delete contract termination: %w", err)
	}
	delete(w.chargesChanged, id)
	d.DetachedOfferings, err = w.detachFromOfferings(ctx, id)
	return d, err
}

func (w *TerminationWriter) refuseIfUsed(ctx context.Context, id int64) error {
	var users []struct {
		Number string `db:"number"`
		Total  int    `db:"total"`
	}
	if err := w.tx.SelectContext(ctx, &users, `
		SELECT number, count(*) OVER () AS total FROM contracts
		WHERE tenant_id = $1 AND contract_termination_id = $2 ORDER BY number LIMIT $3`,
		w.tenantID, id, contractsNamedInConflict); err != nil {
		return fmt.Errorf("look up contracts using contract termination: %w", err)
	}
	if len(users) == 0 {
		return nil
	}
	numbers := make([]string, len(users))
	for i, u := range users {
		numbers[i] = u.Number
	}
	named := strings.Join(numbers, ", ")
	if more := users[0].Total - len(users); more > 0 {
		named += fmt.Sprintf(" and %d more", more)
	}
	return domain.Errorf(domain.KindConflict, "", "contract termination %d is used by %d contract(s): %s", id, users[0].Total, named)
}

// detachFromOfferings clears the termination as default of the tenant's
// catalog offerings and returns their ids.
func (w *TerminationWriter) detachFromOfferings(ctx context.Context, id int64) ([]string, error) {
	// WriteTerminations locked the catalog, so no PutCatalog interleaves;
	// but a tenant without a catalog had no row to lock, and a PutCatalog
	// storing its first one, naming this termination, may have committed
	// while Delete waited for its lock on the termination (catalogTerminations):
	// the catalog is locked and read again.
	if err := lockCatalog(ctx, w.tx, w.tenantID); err != nil {
		return nil, err
	}
	cat, err := loadCatalog(ctx, w.tx, w.tenantID)
	if err != nil {
		return nil, err
	}
	w.catalog = cat
	var detached []string
	for i := range cat.Offerings {
		if o := &cat.Offerings[i]; o.ContractTerminationID != nil && *o.ContractTerminationID == id {
			o.ContractTerminationID = nil
			detached = append(detached, o.ID)
		}
	}
	if len(detached) == 0 {
		return nil, nil
	}
	doc, err := json.Marshal(cat)
	if err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	if _, err := w.tx.ExecContext(ctx, `UPDATE catalogs SET document = $2, updated_at = $3, updated_by = $4 WHERE tenant_id = $1`,
		w.tenantID, doc, w.at, w.actorID); err != nil {
		return nil, fmt.Errorf("store catalog: %w", err)
	}
	return detached, nil
}

// affectedOne turns an update or delete of one row that found none into ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
