package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// migrateBefore applies the migrations numbered below version, as a
// database written by an earlier release holds them.
func migrateBefore(t *testing.T, db *sqlx.DB, version int) {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	sort.Strings(files)
	_, err = db.Exec(`CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	for _, f := range files {
		name := filepath.Base(f)
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		require.NoError(t, err)
		if v >= version {
			continue
		}
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = db.Exec(string(body))
		require.NoError(t, err, name)
		_, err = db.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, v, name)
		require.NoError(t, err)
	}
}

// storeBefore opens a store on a new database that holds the migrations
// numbered below version, with a seed writing to it.
func storeBefore(t *testing.T, version int) (*store.Store, *seed) {
	t.Helper()
	st, err := store.Open(context.Background(), testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	migrateBefore(t, st.DB(), version)
	return st, newSeed(t, st.DB())
}

// seed writes rows as the service before migration 0009 could.
type seed struct {
	t        *testing.T
	db       *sqlx.DB
	tenantID string
	at       time.Time
}

func newSeed(t *testing.T, db *sqlx.DB) *seed {
	s := &seed{t: t, db: db, tenantID: uuid.NewString(), at: time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)}
	s.exec(`INSERT INTO tenants (id, prefix, name) VALUES ($1, 'SEED', 'Seed')`, s.tenantID)
	return s
}

func (s *seed) exec(query string, args ...any) {
	s.t.Helper()
	_, err := s.db.Exec(query, args...)
	require.NoError(s.t, err, query)
}

// contract writes a contract with the given version and lines.
func (s *seed) contract(number string, version int, lines string) string {
	s.t.Helper()
	account, action, id, actor := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	s.exec(`INSERT INTO accounts (id, tenant_id, number, created_at) VALUES ($1, $2, $3, $4)`, account, s.tenantID, "ACC-"+number, s.at)
	s.exec(`INSERT INTO contract_actions (id, tenant_id, number, account_id, action_type, request_hash, response, source, created_at, created_by)
		VALUES ($1, $2, $3, $4, 'create-contract-with-plan', 'h', '{}', 'USER', $5, $6)`, action, s.tenantID, "CA-"+number, account, s.at, actor)
	s.exec(`INSERT INTO contracts (id, tenant_id, account_id, contract_action_id, number, status, effective_date, expiration_date, currency,
			billing_period, billing_cycle_day, payment_method, lines, schedule_status, version, created_at, updated_at, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, 'active', '2026-01-01', '2028-01-01', 'USD', 'MONTHLY', 1, 'pm_card_ok', $6, 'Active', $7, $8, $8, $9, $9)`,
		id, s.tenantID, account, action, number, lines, version, s.at, actor)
	return id
}

// segment writes a segment created minutes after the seed's start.
func (s *seed) segment(contractID string, previous *string, status string, minute int, effective, lines string) string {
	s.t.Helper()
	id, actor, at := uuid.NewString(), uuid.NewString(), s.at.Add(time.Duration(minute)*time.Minute)
	s.exec(`INSERT INTO contract_segments (id, tenant_id, contract_id, previous_segment_id, effective_date, expiration_date, currency,
			plan_id, billing_cycle_day, billing_cycle_type, status, lines, created_at, updated_at, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, '2028-01-01', 'USD', 'off_team', 1, 'MONTHLY', $6, $7, $8, $8, $9, $9)`,
		id, s.tenantID, contractID, previous, effective, status, lines, at, actor)
	return id
}

type segmentRow struct {
	ID         string  `db:"id"`
	Previous   *string `db:"previous_segment_id"`
	Position   int     `db:"position"`
	Status     string  `db:"status"`
	Expiration string  `db:"expiration_date"`
}

func segmentsOf(t *testing.T, db *sqlx.DB, contractID string) []segmentRow {
	t.Helper()
	var rows []segmentRow
	require.NoError(t, db.Select(&rows, `SELECT id, previous_segment_id, position, status, expiration_date::text
		FROM contract_segments WHERE contract_id = $1 ORDER BY position`, contractID))
	return rows
}

const seatLines = `[{"offeringId": "off_team", "rateId": "r", "products": [{"productId": "prod_seat", "quantity": %d}], "recurringAmount": %d}]`

func lines(seats, amount int64) string { return fmt.Sprintf(seatLines, seats, amount) }

// Migration 0009 relinks a chain that concurrent changes forked into one
// linear chain in creation order, closes every segment but the tip, reports
// negative amounts without guessing at them, and from then on the database
// refuses a fork, a second current segment and a negative amount.
func TestIntegrityMigrationRepairsForkedChains(t *testing.T) {
	ctx := context.Background()
	st, sd := storeBefore(t, 9)
	db := st.DB()
	// What finding 4 left: three changes all superseding the first segment,
	// all three still active. The last created carries the contract's lines.
	forked := sd.contract("CT-FORKED", 4, lines(8, 12500))
	root := sd.segment(forked, nil, "expired", 0, "2026-01-01", lines(5, 8000))
	second := sd.segment(forked, &root, "active", 1, "2026-03-15", lines(6, 9500))
	third := sd.segment(forked, &root, "active", 2, "2026-03-16", lines(7, 11000))
	tip := sd.segment(forked, &root, "active", 3, "2026-03-17", lines(8, 12500))
	// A healthy chain whose clocks disagree with its order stays as it is.
	healthy := sd.contract("CT-HEALTHY", 2, lines(6, 9500))
	hRoot := sd.segment(healthy, nil, "expired", 5, "2026-01-01", lines(5, 8000))
	hTip := sd.segment(healthy, &hRoot, "active", 4, "2026-03-15", lines(6, 9500))
	// A contract an overflow stored negative (finding 1's recurring amount).
	negative := sd.contract("CT-NEGATIVE", 1, lines(6148914691236518, -9223372036854775521))
	sd.segment(negative, nil, "active", 6, "2026-01-01", lines(6148914691236518, -9223372036854775521))

	_, err := st.Migrate(ctx)
	require.NoError(t, err)

	got := segmentsOf(t, db, forked)
	require.Len(t, got, 4)
	wantOrder := []string{root, second, third, tip}
	for i, seg := range got {
		assert.Equal(t, wantOrder[i], seg.ID, "position %d", i+1)
		assert.Equal(t, i+1, seg.Position)
		if i == 0 {
			assert.Nil(t, seg.Previous)
		} else if assert.NotNil(t, seg.Previous) {
			assert.Equal(t, wantOrder[i-1], *seg.Previous)
		}
	}
	assert.Equal(t, []string{"expired", "expired", "expired", "active"},
		[]string{got[0].Status, got[1].Status, got[2].Status, got[3].Status})
	// A closed segment ends where its successor starts.
	assert.Equal(t, "2026-03-16", got[1].Expiration)
	assert.Equal(t, "2026-03-17", got[2].Expiration)

	h := segmentsOf(t, db, healthy)
	require.Len(t, h, 2)
	assert.Equal(t, []string{hRoot, hTip}, []string{h[0].ID, h[1].ID}, "a linear chain keeps its order, not its clocks'")

	var repairs []string
	require.NoError(t, db.Select(&repairs, `SELECT outcome || ' ' || kind || ' ' || subject FROM schema_repairs WHERE migration = 9 ORDER BY id`))
	assert.Equal(t, []string{
		"REPAIRED FORKED_CHAIN CT-FORKED",
		"REPAIRED SUPERSEDED_SEGMENT_OPEN " + second,
		"REPAIRED SUPERSEDED_SEGMENT_OPEN " + third,
		"REPORTED NEGATIVE_AMOUNT contract CT-NEGATIVE",
		"REPORTED NEGATIVE_AMOUNT segment " + segmentsOf(t, db, negative)[0].ID,
		"REPORTED AMOUNT_OUT_OF_RANGE contract CT-NEGATIVE",
	}, repairs)

	// From now on the database holds the chain.
	refused := func(what, query string, args ...any) {
		t.Helper()
		_, err := db.Exec(query, args...)
		assert.Error(t, err, what)
	}
	insertAfter := func(previous, status string) (string, []any) {
		return `INSERT INTO contract_segments (id, tenant_id, contract_id, previous_segment_id, effective_date, expiration_date, currency,
				plan_id, billing_cycle_day, billing_cycle_type, status, lines, created_at, updated_at, created_by, updated_by, position)
			SELECT $1, tenant_id, contract_id, id, '2026-04-01', '2028-01-01', 'USD', 'off_team', 1, 'MONTHLY', $3, lines, now(), now(), created_by, created_by, position + 1
			FROM contract_segments WHERE id = $2`,
			[]any{uuid.NewString(), previous, status}
	}
	q, args := insertAfter(third, "expired")
	refused("a second successor", q, args...)
	q, args = insertAfter(tip, "active")
	refused("a second current segment", q, args...)
	refused("a rewritten chain", `UPDATE contract_segments SET previous_segment_id = $2 WHERE id = $1`, tip, root)
	refused("a second root", `UPDATE contract_segments SET previous_segment_id = NULL, position = 1 WHERE id = $1`, tip)
	refused("a predecessor of another contract", `INSERT INTO contract_segments (id, tenant_id, contract_id, previous_segment_id, effective_date,
			expiration_date, currency, plan_id, billing_cycle_day, billing_cycle_type, status, lines, created_at, updated_at, created_by, updated_by, position)
		SELECT $1, tenant_id, $3, id, '2026-04-01', '2028-01-01', 'USD', 'off_team', 1, 'MONTHLY', 'expired', lines, now(), now(), created_by, created_by, 3
		FROM contract_segments WHERE id = $2`, uuid.NewString(), tip, healthy)
	refused("a negative recurring amount", `UPDATE contracts SET lines = $2 WHERE id = $1`, healthy, lines(6, -1))
	refused("a negative quantity", `UPDATE contracts SET lines = $2 WHERE id = $1`, healthy, lines(-1, 0))
	// Closing the tip and appending after it is how a change is applied.
	_, err = db.Exec(`UPDATE contract_segments SET status = 'expired' WHERE id = $1`, tip)
	require.NoError(t, err)
	q, args = insertAfter(tip, "active")
	_, err = db.Exec(q, args...)
	assert.NoError(t, err, "appending after the tip")
}
