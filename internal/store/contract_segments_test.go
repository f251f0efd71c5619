package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/bulk"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A contract read holds its newest segments, as many as SegmentsShown, and
// counts them all; its segments listed page by page are its whole chain, in
// order, the shown ones last. Another tenant finds neither.
func TestAContractShowsItsNewestSegmentsAndListsThemAll(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	total := store.SegmentsShown + 5
	for range total - 1 {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
	}

	ct, err := st.Contract(ctx, sc, id)
	require.NoError(t, err)
	assert.EqualValues(t, total, ct.SegmentCount)
	require.Len(t, ct.Segments, store.SegmentsShown)

	var chain []domain.Segment
	after, pages := int64(0), 0
	for more := true; more; pages++ {
		var segs []domain.Segment
		segs, after, more, err = st.ContractSegments(ctx, sc, ct.Number, after, 7)
		require.NoError(t, err)
		chain = append(chain, segs...)
	}
	assert.Equal(t, 4, pages, "7, 7, 7 and 4")
	require.Len(t, chain, total)
	assert.Nil(t, chain[0].PreviousContractSegmentID, "the first segment follows nothing")
	for i := 1; i < total; i++ {
		assert.Equal(t, chain[i-1].ID, *chain[i].PreviousContractSegmentID, "segment %d follows the one before it", i+1)
		assert.Equal(t, ct.Number, chain[i].ContractNumber)
	}
	assert.Equal(t, chain[total-store.SegmentsShown:], ct.Segments, "the contract shows the chain's newest")

	other, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OTHER", Name: "Other"}, nil)
	require.NoError(t, err)
	_, err = st.Contract(ctx, store.Scope{TenantID: other.ID}, id)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, _, err = st.ContractSegments(ctx, store.Scope{TenantID: other.ID}, id, 0, 10)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// A settled segment (one with a successor) cannot change; the current one can.
func TestASettledSegmentCannotChange(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	for range 4 {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
	}
	_, err := st.DB().Exec(`UPDATE contract_segments SET status = 'active' WHERE contract_id = $1 AND position = 4`, id)
	var pqErr *pq.Error
	require.ErrorAs(t, err, &pqErr, "a settled segment changed")
	assert.Equal(t, pq.ErrorCode("23000"), pqErr.Code)
	_, err = st.DB().Exec(`UPDATE contract_segments SET updated_at = now() WHERE contract_id = $1 AND position = 5`, id)
	assert.NoError(t, err, "the current segment has no successor: it may change")
}

// oneContract is a store with the demo tenant and one contract of it, with
// its first segment.
func oneContract(t *testing.T) (*store.Store, string, store.Scope) {
	ctx := context.Background()
	st := testdb.Migrated(t)
	require.NoError(t, demo.Seed(ctx, st, time.Now()))
	ids, err := bulk.Contracts(ctx, st.DB(), "DEMO", 1, bulk.Options{})
	require.NoError(t, err)
	var tenantID string
	require.NoError(t, st.DB().Get(&tenantID, `SELECT tenant_id FROM contracts WHERE id = $1`, ids[0]))
	return st, ids[0], store.Scope{TenantID: tenantID}
}
