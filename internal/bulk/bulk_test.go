package bulk_test

import (
	"context"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/bulk"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

func TestContractsSeedsDeclinedShare(t *testing.T) {
	ctx := context.Background()
	s := testdb.Migrated(t)
	require.NoError(t, demo.Seed(ctx, s, time.Now()))
	ids, err := bulk.Contracts(ctx, s.DB(), "DEMO", 250, bulk.Options{DeclinedPercent: 5})
	require.NoError(t, err)
	require.Len(t, ids, 250)

	var byMethod []struct {
		Method string `db:"payment_method"`
		N      int    `db:"n"`
	}
	require.NoError(t, s.DB().Select(&byMethod, `SELECT payment_method, count(*) AS n FROM contracts
		WHERE id = ANY($1::uuid[]) GROUP BY payment_method ORDER BY payment_method`, pq.Array(ids)))
	got := map[string]int{}
	for _, r := range byMethod {
		got[r.Method] = r.N
	}
	// 5 of each hundred, and of the last fifty.
	assert.Equal(t, map[string]int{payments.MethodDeclined: 15, payments.MethodOK: 235}, got)

	var segments, events, numbers int
	require.NoError(t, s.DB().Get(&segments, `SELECT count(*) FROM contract_segments WHERE contract_id = ANY($1::uuid[])`, pq.Array(ids)))
	require.NoError(t, s.DB().Get(&events, `SELECT count(*) FROM schedule_events WHERE contract_id = ANY($1::uuid[])`, pq.Array(ids)))
	require.NoError(t, s.DB().Get(&numbers, `SELECT count(DISTINCT number) FROM contracts WHERE id = ANY($1::uuid[])`, pq.Array(ids)))
	assert.Equal(t, []int{250, 250, 250}, []int{segments, events, numbers})

	_, err = bulk.Contracts(ctx, s.DB(), "DEMO", 1, bulk.Options{DeclinedPercent: 101})
	assert.Error(t, err)
}
