package main

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A tenant with few accounts still gives list-account one to ask for: its
// 1 % sample was mostly none, and the kind sent ?accountNumber=, which
// listed every contract and is now a 400.
func TestTheSampleHasAnAccountOfASmallTenant(t *testing.T) {
	ctx := context.Background()
	s, url := testdb.MigratedURL(t)
	tenant, err := s.CreateTenant(ctx, store.Tenant{Prefix: "LOAD", Name: "Load"}, nil)
	require.NoError(t, err)
	s.DB().MustExec(`INSERT INTO accounts (id, tenant_id, number, created_at) VALUES ($1, $2, 'ACC-ONLY', now())`, uuid.NewString(), tenant.ID)

	sample, err := loadSample(ctx, url, "LOAD")
	require.NoError(t, err)
	assert.Equal(t, []string{"ACC-ONLY"}, sample.accounts)
}
