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

// A contract read while its settled segments are held is the contract read
// afresh, however its chain grows: a segment at a time past what a read
// shows, and by more than a read shows at once. A settled segment cannot
// change, which is what makes holding them right; the current one can.
func TestAContractReadsAsAfreshWithItsSettledSegmentsHeld(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	sameAsAfresh := func(n int) {
		t.Helper()
		got, err := st.Contract(ctx, sc, id)
		require.NoError(t, err)
		afresh, err := store.HoldingNothing(st).Contract(ctx, sc, id)
		require.NoError(t, err)
		require.Len(t, afresh.Segments, min(n, store.SegmentsShown))
		assert.EqualValues(t, n, afresh.SegmentCount)
		assert.Equal(t, afresh, got, "after segment %d", n)
	}
	n := 1
	for ; n < store.SegmentsShown+3; n++ {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
		sameAsAfresh(n + 1)
	}
	assert.Equal(t, store.SegmentsShown-1, store.HeldSegments(st, id), "no more held than a read shows")
	for range store.SegmentsShown + 2 {
		require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
		n++
	}
	sameAsAfresh(n)

	_, err := st.DB().Exec(`UPDATE contract_segments SET status = 'active' WHERE contract_id = $1 AND position = $2`, id, n-1)
	var pqErr *pq.Error
	require.ErrorAs(t, err, &pqErr, "a settled segment changed")
	assert.Equal(t, pq.ErrorCode("23000"), pqErr.Code)
	_, err = st.DB().Exec(`UPDATE contract_segments SET updated_at = now() WHERE contract_id = $1 AND position = $2`, id, n)
	assert.NoError(t, err, "the current segment has no successor: it may change")
}

// Segments held are not sent again: a read shows them as held when the
// stored chain goes on from them. Held ones that lead elsewhere (a database
// restored to an earlier point, say) are not used: the contract is read
// afresh, and held as read. Held or not, another tenant's read finds nothing.
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
		got, statements, err := store.ReadContractCounting(ctx, st, sc.TenantID, id)
		require.NoError(t, err)
		assert.Equal(t, 2, statements, "%s: read again", name)
		assert.Equal(t, whole, got, name)
		assert.Equal(t, len(whole.Segments)-1, store.HeldSegments(st, id), "%s: held again as read afresh", name)
	}
}

// Held segments are shown for as long as a read shows them: when k more
// segments have followed them, a read shows the newest of the held ones and
// the k+1 it asked Postgres for, twenty in all; once more than a read shows
// have followed them, none, and the contract is as read afresh. Either way
// the read is one statement.
func TestHeldSegmentsAreShownWhileAReadShowsThem(t *testing.T) {
	ctx := context.Background()
	for _, k := range []int{5, store.SegmentsShown - 1, store.SegmentsShown, store.SegmentsShown + 5} {
		st, id, sc := oneContract(t)
		for range store.SegmentsShown - 1 {
			require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
		}
		first, err := store.HoldingNothing(st).Contract(ctx, sc, id)
		require.NoError(t, err)
		require.Len(t, first.Segments, store.SegmentsShown, "the whole chain")
		// The settled ones, at positions from 1, told apart by their editor.
		held := slices.Clone(first.Segments[:store.SegmentsShown-1])
		for i := range held {
			held[i].UpdatedBy = "held"
		}
		store.HoldSegments(st, id, held, first.Segments[store.SegmentsShown-1].ID)
		for range k {
			require.NoError(t, store.AddSegment(ctx, st, sc.TenantID, id, time.Now()))
		}

		got, statements, err := store.ReadContractCounting(ctx, st, sc.TenantID, id)
		require.NoError(t, err)
		assert.Equal(t, 1, statements, "k = %d", k)
		afresh, err := store.HoldingNothing(st).Contract(ctx, sc, id)
		require.NoError(t, err)
		require.Len(t, got.Segments, store.SegmentsShown, "k = %d", k)
		shown := max(len(held)-k, 0)
		assert.Equal(t, held[len(held)-shown:], got.Segments[:shown], "k = %d: the newest held, not read again", k)
		assert.Equal(t, afresh.Segments[shown:], got.Segments[shown:], "k = %d: the rest as read", k)
	}
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
