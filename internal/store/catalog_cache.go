package store

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// catalogCacheSize bounds how many tenants' catalogs a process keeps
// decoded; beyond it an arbitrary one is dropped and read again when next
// asked for.
const catalogCacheSize = 1024

// catalogCache keeps tenants' catalogs as last decoded, each under the
// version it was stored with (migration 0020 gives every stored document a
// version of its own). Pricing a change reads the catalog on every request
// and again in its workflow: with the cache Postgres sends the document only
// when its version is not the one held, and it is decoded once per version.
// A catalog it returns is shared: callers must not modify it.
type catalogCache struct {
	mu       sync.Mutex
	byTenant map[string]versionedCatalog
}

type versionedCatalog struct {
	version string
	catalog domain.Catalog
}

func (c *catalogCache) held(tenantID string) (versionedCatalog, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byTenant[tenantID]
	return v, ok
}

func (c *catalogCache) keep(tenantID string, v versionedCatalog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byTenant == nil {
		c.byTenant = make(map[string]versionedCatalog)
	}
	if _, ok := c.byTenant[tenantID]; !ok && len(c.byTenant) >= catalogCacheSize {
		for other := range c.byTenant {
			delete(c.byTenant, other)
			break
		}
	}
	c.byTenant[tenantID] = v
}

// loadAt is load for a caller that has read the catalog's version already
// (nil: the tenant had none): it reads nothing when that version is held.
func (c *catalogCache) loadAt(ctx context.Context, q sqlx.QueryerContext, tenantID string, version *string) (domain.Catalog, error) {
	if held, ok := c.held(tenantID); ok && version != nil && held.version == *version {
		return held.catalog, nil
	}
	return c.load(ctx, q, tenantID)
}

// load reads the tenant's catalog through q as loadCatalog does (in the
// same statement's snapshot, so inside a transaction it is the
// transaction's view), sending and decoding the document only when the
// stored version is not the one held.
func (c *catalogCache) load(ctx context.Context, q sqlx.QueryerContext, tenantID string) (domain.Catalog, error) {
	held, _ := c.held(tenantID) // none held: version "", which no stored uuid equals
	cat, version, sent, err := readCatalog(ctx, q, tenantID, held.version)
	switch {
	case err != nil:
		return domain.Catalog{}, err
	case !sent:
		return held.catalog, nil
	case version != "":
		c.keep(tenantID, versionedCatalog{version: version, catalog: cat})
	}
	return cat, nil
}
