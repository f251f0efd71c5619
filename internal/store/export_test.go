package store

import (
	"context"
	"encoding/json"
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
		ct, err := loadContract(ctx, tx, tenantID, contractID)
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
