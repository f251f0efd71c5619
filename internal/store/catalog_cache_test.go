package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A process keeps each tenant's catalog decoded, but whatever writes the
// catalog, through the store or straight into the table, the next read
// sees what is stored: every write gives the document a new version.
func TestCatalogReadsSeeEveryWrite(t *testing.T) {
	ctx := context.Background()
	st := testdb.Migrated(t)
	tenant, err := st.CreateTenant(ctx, store.Tenant{Prefix: "CACHE", Name: "catalog cache"}, nil)
	require.NoError(t, err)
	other, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OTHER", Name: "another tenant"}, nil)
	require.NoError(t, err)
	catalogOf := func(products ...string) domain.Catalog {
		var c domain.Catalog
		for _, p := range products {
			c.Products = append(c.Products, domain.Product{ID: p, Name: p})
		}
		return c
	}
	productsRead := func(tenantID string) []string {
		t.Helper()
		c, err := st.Catalog(ctx, tenantID)
		require.NoError(t, err)
		var ids []string
		for _, p := range c.Products {
			ids = append(ids, p.ID)
		}
		return ids
	}
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	writeRaw := func(sql string, c domain.Catalog) {
		t.Helper()
		doc, err := json.Marshal(c)
		require.NoError(t, err)
		_, err = st.DB().ExecContext(ctx, sql, tenant.ID, doc, at, tenant.ID)
		require.NoError(t, err)
	}

	assert.Empty(t, productsRead(tenant.ID), "a tenant without a catalog has an empty one")
	_, err = st.PutCatalog(ctx, tenant.ID, tenant.ID, catalogOf("a"), at)
	require.NoError(t, err)
	_, err = st.PutCatalog(ctx, other.ID, other.ID, catalogOf("other"), at)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, productsRead(tenant.ID))
	assert.Equal(t, []string{"a"}, productsRead(tenant.ID), "read again, from the cache")
	assert.Equal(t, []string{"other"}, productsRead(other.ID), "each tenant its own")

	// The same business time twice: a version, not updated_at, tells them apart.
	_, err = st.PutCatalog(ctx, tenant.ID, tenant.ID, catalogOf("a", "b"), at)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, productsRead(tenant.ID))

	writeRaw(`UPDATE catalogs SET document = $2, updated_at = $3, updated_by = $4 WHERE tenant_id = $1`, catalogOf("c"))
	assert.Equal(t, []string{"c"}, productsRead(tenant.ID), "an UPDATE outside the store")

	_, err = st.DB().ExecContext(ctx, `DELETE FROM catalogs WHERE tenant_id = $1`, tenant.ID)
	require.NoError(t, err)
	assert.Empty(t, productsRead(tenant.ID), "deleted")
	writeRaw(`INSERT INTO catalogs (tenant_id, document, updated_at, updated_by) VALUES ($1, $2, $3, $4)`, catalogOf("d"))
	assert.Equal(t, []string{"d"}, productsRead(tenant.ID), "inserted again: a version it never had")
	assert.Equal(t, []string{"other"}, productsRead(other.ID))
}
