package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
)

// Tenant is a business using the service. Its JSON tags are what the
// tenant commands of cmd/contractd print.
type Tenant struct {
	ID     string `db:"id" json:"tenantId"`
	Prefix string `db:"prefix" json:"prefix"`
	Name   string `db:"name" json:"name"`
	// Sandbox tenants may create test clocks; set when the tenant is
	// created, never later.
	Sandbox bool `db:"sandbox" json:"sandbox"`
}

// NewKey is a key to store for a tenant: the plain key is only hashed here.
type NewKey struct {
	Key     string
	ActorID string
	Roles   []auth.Role
	Source  auth.Source
	// AccountNumber binds a auth.SourceCustomer key to one account; the
	// database refuses it on any other source, and a customer key without it.
	AccountNumber string
	// DisplayName is who the key's actor is shown as (auth.CheckDisplayName);
	// empty takes auth.DefaultDisplayName.
	DisplayName string
}

// ErrTenantExists is returned when a tenant prefix is taken.
var ErrTenantExists = errors.New("a tenant with this prefix already exists")

// CreateTenant stores a tenant and its keys in one transaction.
func (s *Store) CreateTenant(ctx context.Context, t Tenant, keys []NewKey) (Tenant, error) {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, prefix, name, sandbox) VALUES ($1, $2, $3, $4)`, t.ID, t.Prefix, t.Name, t.Sandbox); err != nil {
			if isUniqueViolation(err, "tenants_prefix_key") {
				return ErrTenantExists
			}
			return fmt.Errorf("insert tenant: %w", err)
		}
		for _, k := range keys {
			if err := insertKey(ctx, tx, t.ID, k); err != nil {
				return err
			}
		}
		return nil
	})
	return t, err
}

// TenantByPrefix finds a tenant.
func (s *Store) TenantByPrefix(ctx context.Context, prefix string) (Tenant, error) {
	var t Tenant
	err := s.db.GetContext(ctx, &t, `SELECT id, prefix, name, sandbox FROM tenants WHERE prefix = $1`, prefix)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

func insertKey(ctx context.Context, tx *sqlx.Tx, tenantID string, k NewKey) error {
	roles := make([]string, len(k.Roles))
	for i, r := range k.Roles {
		roles[i] = string(r)
	}
	source := k.Source
	if source == "" {
		source = auth.SourceUser
	}
	var account *string
	if k.AccountNumber != "" {
		account = &k.AccountNumber
	}
	name := k.DisplayName
	if name == "" {
		name = auth.DefaultDisplayName(k.Roles, source, k.AccountNumber)
	}
	if err := auth.CheckDisplayName(name); err != nil {
		return fmt.Errorf("api key: %w", err)
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO api_keys (id, tenant_id, key_hash, actor_id, roles, source, account_number, display_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		uuid.NewString(), tenantID, auth.HashKey(k.Key), k.ActorID, pq.Array(roles), source, account, name)
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// Principal resolves a presented key to its caller; revoked and unknown keys
// are both ErrNotFound.
func (s *Store) Principal(ctx context.Context, key string) (auth.Principal, error) {
	p, _, err := s.activeKey(ctx, "k.key_hash = $1", auth.HashKey(key))
	return p, err
}

// SigningKey resolves the id of a key that signs its requests to its caller
// and its signing secret (auth.SigningSecret); revoked, unknown and malformed
// ids are all ErrNotFound.
func (s *Store) SigningKey(ctx context.Context, keyID string) (auth.Principal, []byte, error) {
	keyID, ok := canonicalID(keyID)
	if !ok {
		return auth.Principal{}, nil, ErrNotFound
	}
	p, hash, err := s.activeKey(ctx, "k.id = $1", keyID)
	return p, []byte(hash), err
}

// activeKey finds the unrevoked key matching where (a condition on api_keys
// k with one parameter) and returns its caller and its hash.
func (s *Store) activeKey(ctx context.Context, where string, arg any) (auth.Principal, string, error) {
	var row struct {
		KeyID    string         `db:"id"`
		TenantID string         `db:"tenant_id"`
		Prefix   string         `db:"prefix"`
		ActorID  string         `db:"actor_id"`
		Roles    pq.StringArray `db:"roles"`
		Source   string         `db:"source"`
		Account  sql.NullString `db:"account_number"`
		KeyHash  string         `db:"key_hash"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT k.id, k.tenant_id, t.prefix, k.actor_id, k.roles, k.source, k.account_number, k.key_hash
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
		WHERE `+where+` AND k.revoked_at IS NULL`, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, "", ErrNotFound
	}
	if err != nil {
		return auth.Principal{}, "", fmt.Errorf("look up api key: %w", err)
	}
	p := auth.Principal{
		KeyID: row.KeyID, TenantID: row.TenantID, TenantPrefix: row.Prefix, ActorID: row.ActorID,
		Source: auth.Source(row.Source), AccountNumber: row.Account.String,
	}
	for _, r := range row.Roles {
		p.Roles = append(p.Roles, auth.Role(r))
	}
	return p, row.KeyHash, nil
}

// EnsureTenant creates the tenant and keys that do not exist yet, leaving
// existing ones untouched; `dev` uses it to seed the demo tenant on every start.
func (s *Store) EnsureTenant(ctx context.Context, t Tenant, keys []NewKey) (Tenant, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, prefix, name, sandbox) VALUES ($1, $2, $3, $4) ON CONFLICT (prefix) DO NOTHING`,
			t.ID, t.Prefix, t.Name, t.Sandbox); err != nil {
			return fmt.Errorf("insert tenant: %w", err)
		}
		if err := tx.GetContext(ctx, &t, `SELECT id, prefix, name, sandbox FROM tenants WHERE prefix = $1`, t.Prefix); err != nil {
			return fmt.Errorf("load tenant: %w", err)
		}
		for _, k := range keys {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE key_hash = $1)`, auth.HashKey(k.Key)); err != nil {
				return fmt.Errorf("look up api key: %w", err)
			}
			if !exists {
				if err := insertKey(ctx, tx, t.ID, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return t, err
}

// HasCatalog reports whether the tenant has stored a catalog.
func (s *Store) HasCatalog(ctx context.Context, tenantID string) (bool, error) {
	var exists bool
	err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM catalogs WHERE tenant_id = $1)`, tenantID)
	return exists, err
}

// AddKey stores one more key for a tenant (a rotation's new key, or a
// customer's) and returns its id, by which it can later be revoked. A
// customer key's account number is checked as upsertAccount checks one
// (checkKeyAccount).
func (s *Store) AddKey(ctx context.Context, tenantID string, k NewKey) (string, error) {
	var id string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkKeyAccount(ctx, tx, tenantID, k.AccountNumber); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, tenantID, k); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &id, `SELECT id FROM api_keys WHERE key_hash = $1`, auth.HashKey(k.Key)); err != nil {
			return fmt.Errorf("load api key id: %w", err)
		}
		return nil
	})
	return id, err
}

// checkKeyAccount holds a customer key's account number, when no account
// of the tenant has it yet, to domain.CheckIdentifier (a KindInvalid error
// naming accountNumber otherwise): the key's first contract would create
// the account, and upsertAccount would refuse it then. An existing account
// is taken as it is, even one whose number was stored before the check
// held, as upsertAccount takes it.
func checkKeyAccount(ctx context.Context, tx *sqlx.Tx, tenantID, number string) error {
	if number == "" {
		return nil
	}
	var exists bool
	err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM accounts WHERE tenant_id = $1 AND number = $2)`, tenantID, number)
	if err != nil {
		return fmt.Errorf("look up the key's account: %w", err)
	}
	if err := domain.CheckIdentifier(number); err != nil && !exists {
		return domain.Errorf(domain.KindInvalid, "accountNumber", "accountNumber %q, a new account's, %v", number, err)
	}
	return nil
}

// ErrLastOperatorKey is RevokeKey's refusal to revoke the tenant's last
// active key holding the operator role: without one, nobody could change
// its catalog, approval rules or webhooks, run its billing, or write its
// early-termination penalties, until an administrator issued a new key.
var ErrLastOperatorKey = errors.New("the tenant's last active key with the operator role")

// The SQL of a revocation. The tenant's row serialises its revocations, so
// two that would each leave the other's key as the last operator key
// cannot both pass; NO KEY UPDATE leaves the key share locks of the
// tenant's other inserts free. The count is a statement of its own, whose
// snapshot is taken once the lock is held and which sees the revocation
// before it.
const (
	lockTenantKeys = `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`
	revokeKey      = `
		UPDATE api_keys SET revoked_at = $3
		WHERE tenant_id = $1 AND (id::text = $2 OR key_hash = $4) AND revoked_at IS NULL
		RETURNING $5 = ANY(roles)`
	activeKeysWithRole = `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL AND $2 = ANY(roles)`
)

// RevokeKey revokes one of a tenant's active keys, named by its id or by the
// key itself; it is ErrNotFound when the tenant has no such active key, and
// ErrLastOperatorKey, revoking nothing, when it is the tenant's last active
// key holding the operator role (RevokeKeyAllowingLastOperator revokes that
// too). Principal reads every request afresh, so the key stops working at
// once.
func (s *Store) RevokeKey(ctx context.Context, tenantID, idOrKey string, now time.Time) error {
	return s.revokeKey(ctx, tenantID, idOrKey, now, false)
}

// RevokeKeyAllowingLastOperator is RevokeKey, revoking the tenant's last
// operator key as any other: the tenant is then locked out of what needs
// the role until a new operator key is issued.
func (s *Store) RevokeKeyAllowingLastOperator(ctx context.Context, tenantID, idOrKey string, now time.Time) error {
	return s.revokeKey(ctx, tenantID, idOrKey, now, true)
}

func (s *Store) revokeKey(ctx context.Context, tenantID, idOrKey string, now time.Time, allowLastOperator bool) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, lockTenantKeys, tenantID); err != nil {
			return fmt.Errorf("lock the tenant: %w", err)
		}
		var operator bool
		err := tx.GetContext(ctx, &operator, revokeKey, tenantID, idOrKey, now, auth.HashKey(idOrKey), string(auth.RoleOperator))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if !operator || allowLastOperator {
			return nil
		}
		var left int
		if err := tx.GetContext(ctx, &left, activeKeysWithRole, tenantID, string(auth.RoleOperator)); err != nil {
			return fmt.Errorf("count operator keys: %w", err)
		}
		if left == 0 {
			return ErrLastOperatorKey // rolls the revocation back
		}
		return nil
	})
}

// ActorNames maps the tenant's actors among ids to their display names, in
// one query whatever the number of ids, so an answer naming many actors
// costs one lookup. Ids that are not keys' actors (such as "system") are
// left out. Revoked keys still name their actors: history outlives keys. An
// actor with several keys is named by its newest.
func (s *Store) ActorNames(ctx context.Context, tenantID string, ids []string) (map[string]string, error) {
	actors := make([]string, 0, len(ids))
	for _, id := range ids {
		// Named under the ids as Postgres spells them: another spelling
		// would find no name, and one Postgres refuses must not reach it.
		if canonical, ok := canonicalID(id); ok && canonical == id {
			actors = append(actors, id)
		}
	}
	names := make(map[string]string, len(actors))
	if len(actors) == 0 {
		return names, nil
	}
	var rows []struct {
		ActorID string `db:"actor_id"`
		Name    string `db:"display_name"`
	}
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT DISTINCT ON (actor_id) actor_id, display_name FROM api_keys
		WHERE tenant_id = $1 AND actor_id = ANY($2::uuid[])
		ORDER BY actor_id, created_at DESC, id`, tenantID, pq.Array(actors)); err != nil {
		return nil, fmt.Errorf("look up actor names: %w", err)
	}
	for _, r := range rows {
		names[r.ActorID] = r.Name
	}
	return names, nil
}
