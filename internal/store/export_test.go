package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// TestEvent and AppendEvents give the outbox's writer to store_test.
type TestEvent = newEvent

func AppendEvents(ctx context.Context, s *Store, events []TestEvent) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return appendEvents(ctx, tx, events) })
}

// AddSegment supersedes the contract's current segment with a copy of it
// created at at, as an applied change would, version and all.
func AddSegment(ctx context.Context, s *Store, tenantID, contractID string, at time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		ct, err := loadContract(ctx, tx, tenantID, contractID, 0)
		if err != nil {
			return err
		}
		tip := ct.Segments[len(ct.Segments)-1]
		seg := tip
		seg.ID, seg.PreviousContractSegmentID, seg.CreatedOn, seg.UpdatedOn = uuid.NewString(), &tip.ID, at, at
		lines, err := json.Marshal(ct.Lines)
		if err != nil {
			return err
		}
		return insertSegment(ctx, tx, tenantID, contractID, seg, domain.SegmentSuperseded,
			&amendedTerms{Lines: lines, Status: ct.Status, BillingPeriod: string(ct.BillingPeriod)})
	})
}

// HoldSegments makes s hold segments as a contract's settled ones, at
// positions from 1 and followed by the segment next, whatever is stored.
func HoldSegments(s *Store, contractID string, segments []domain.Segment, next string) {
	s.segments.forget(contractID)
	s.segments.keep(contractID, append(slices.Clone(segments), domain.Segment{ID: next}), int64(len(segments)+1))
}

// HeldSegments is how many of the contract's segments s holds.
func HeldSegments(s *Store, contractID string) int {
	return len(s.segments.get(contractID).segments)
}

// HoldingNothing is a store on s's database that holds nothing decoded yet:
// its first read of a contract reads it whole.
func HoldingNothing(s *Store) *Store {
	return &Store{db: s.db, catalogs: &catalogCache{}, segments: &segmentCache{}}
}

// ReadContractCounting reads one of the tenant's contracts as Contract does
// and says how many statements the read sent.
func ReadContractCounting(ctx context.Context, s *Store, tenantID, id string) (domain.Contract, int, error) {
	q := &countingQueryer{QueryerContext: s.db}
	ct, err := s.segments.loadContract(ctx, q, tenantID, id)
	return ct, q.n, err
}

type countingQueryer struct {
	sqlx.QueryerContext
	n int
}

func (q *countingQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q.n++
	return q.QueryerContext.QueryContext(ctx, query, args...)
}

func (q *countingQueryer) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	q.n++
	return q.QueryerContext.QueryxContext(ctx, query, args...)
}

func (q *countingQueryer) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	q.n++
	return q.QueryerContext.QueryRowxContext(ctx, query, args...)
}
