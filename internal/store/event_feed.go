package store

import (
	"context"
	"fmt"
)

// EventFilter narrows an event listing.
type EventFilter struct {
	After    int64
	Type     string
	PageSize int
	// Fits, when set, ends the page before the first event it refuses, as
	// PageSize ends it after that many: the feed bounds a page's bytes so.
	// An event's data can be large (its contract whole, on an offering of
	// many products), so the rows are read one at a time and none after
	// that event is kept.
	Fits func(Event) (bool, error)
}

// Events lists the tenant's events after a sequence, in order, one page at a
// time. It returns the page and whether more follow.
func (s *Store) Events(ctx context.Context, tenantID string, f EventFilter) ([]Event, bool, error) {
	query := `SELECT seq, id, tenant_id, type, occurred_at, recorded_at, contract_id, amendment_id, data FROM outbox_events
		WHERE tenant_id = $1 AND seq > $2`
	args := []any{tenantID, f.After}
	if f.Type != "" {
		args = append(args, f.Type)
		query += fmt.Sprintf(" AND type = $%d", len(args))
	}
	args = append(args, f.PageSize+1)
	query += fmt.Sprintf(" ORDER BY seq LIMIT $%d", len(args))
	rows, err := s.db.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		if err := rows.StructScan(&ev); err != nil {
			return nil, false, fmt.Errorf("read event: %w", err)
		}
		if len(out) == f.PageSize {
			return out, true, nil
		}
		if f.Fits != nil {
			fits, err := f.Fits(ev)
			if err != nil {
				return nil, false, err
			}
			if !fits {
				return out, true, nil
			}
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	return out, false, nil
}
