package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Schedule events written before migration 0028 take their places in their
// contracts' histories in the order they were written (not the order of
// the times they carry), each contract's from 1 whatever the others' events
// between them; a second event at one place, and one with no place, are
// refused.
func TestSchedulePositionsMigrationNumbersEachHistory(t *testing.T) {
	ctx := context.Background()
	st, s := storeBefore(t, 28)
	db := st.DB()
	first, second := s.contract("CT-1", 1, `[]`), s.contract("CT-2", 1, `[]`)
	written := []struct{ contract, status string }{
		{first, "Active"}, {second, "Active"}, {first, "Terminated"}, {first, "Active"}, {second, "Terminated"},
	}
	for i, ev := range written {
		s.exec(`INSERT INTO schedule_events (tenant_id, contract_id, status, actor_id, source, at) VALUES ($1, $2, $3, $4, 'API', $5)`,
			s.tenantID, ev.contract, ev.status, uuid.NewString(), s.at.Add(-time.Duration(i)*time.Minute))
	}

	_, err := st.Migrate(ctx)
	require.NoError(t, err)

	history := func(contract string) []string {
		var out []string
		require.NoError(t, db.Select(&out, `SELECT position || ' ' || status FROM schedule_events WHERE contract_id = $1 ORDER BY id`, contract))
		return out
	}
	assert.Equal(t, []string{"1 Active", "2 Terminated", "3 Active"}, history(first))
	assert.Equal(t, []string{"1 Active", "2 Terminated"}, history(second))
	_, err = db.Exec(`INSERT INTO schedule_events (tenant_id, contract_id, status, actor_id, source, at, position) VALUES ($1, $2, 'Active', $3, 'API', $4, 2)`,
		s.tenantID, second, uuid.NewString(), s.at)
	assert.ErrorContains(t, err, "schedule_events_one_per_position")
	_, err = db.Exec(`INSERT INTO schedule_events (tenant_id, contract_id, status, actor_id, source, at) VALUES ($1, $2, 'Active', $3, 'API', $4)`,
		s.tenantID, second, uuid.NewString(), s.at)
	assert.ErrorContains(t, err, `null value in column "position"`)
}
