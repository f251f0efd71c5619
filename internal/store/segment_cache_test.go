package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/bulk"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A contract read while its settled segments are held is the contract read
// whole, however its chain grows; and a settled segment cannot change, which
// is what makes holding them right.
func TestAContractReadsWholeWithItsSettledSegmentsHeld(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	for n := 2; n <= 5; n++ {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
		got, err := st.Contract(ctx, sc, id)
		require.NoError(t, err)
		whole, err := store.HoldingNothing(st).Contract(ctx, sc, id)
		require.NoError(t, err)
		require.Len(t, whole.Segments, n)
		assert.Equal(t, whole, got, "after segment %d", n)
	}

	_, err := st.DB().Exec(`UPDATE contract_segments SET status = 'active' WHERE contract_id = $1 AND position = 4`, id)
	var pqErr *pq.Error
	require.ErrorAs(t, err, &pqErr, "a settled segment changed")
	assert.Equal(t, pq.ErrorCode("23000"), pqErr.Code)
	_, err = st.DB().Exec(`UPDATE contract_segments SET updated_at = now() WHERE contract_id = $1 AND position = 5`, id)
	assert.NoError(t, err, "the current segment has no successor: it may change")
}

// Segments held are not sent again: a read shows them as held when the
// stored chain goes on from them. Held ones that lead elsewhere (a database
// restored to an earlier point, say) are not used: the contract is read
// whole, and held as read. Held or not, another tenant's read finds nothing.
func TestSegmentsHeldAreUsedOnlyWhereTheStoredChainGoesOn(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	for range 3 {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
	}
	whole, err := store.HoldingNothing(st).Contract(ctx, sc, id)
	require.NoError(t, err)
	// marked are the first n stored segments, told apart by their editor.
	marked := func(n int) []domain.Segment {
		segments := slices.Clone(append(whole.Segments, whole.Segments...)[:n])
		for i := range segments {
			segments[i].UpdatedBy = "held"
		}
		return segments
	}

	store.HoldSegments(st, id, marked(2), whole.Segments[2].ID)
	got, err := st.Contract(ctx, sc, id)
	require.NoError(t, err)
	assert.Equal(t, marked(2), got.Segments[:2], "held, so not read again")
	assert.Equal(t, whole.Segments[2:], got.Segments[2:])

	for name, held := range map[string]int{"followed by another segment": 2, "longer than the stored chain": 6} {
		store.HoldSegments(st, id, marked(held), uuid.NewString())
		got, err := st.Contract(ctx, sc, id)
		require.NoError(t, err)
		assert.Equal(t, whole, got, name)
		assert.Equal(t, len(whole.Segments)-1, store.HeldSegments(st, id), "%s: held again as read whole", name)
	}

	other, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OTHER", Name: "Other"}, nil)
	require.NoError(t, err)
	_, err = st.Contract(ctx, store.Scope{TenantID: other.ID}, id)
	assert.ErrorIs(t, err, store.ErrNotFound, "segments held show nothing to another tenant")
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
