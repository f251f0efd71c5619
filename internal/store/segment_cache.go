package store

import (
	"context"
	"slices"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// settledSegmentsBudget bounds how many settled segments a process keeps
// decoded, over all contracts (a segment takes about a kilobyte); beyond it
// arbitrary contracts' are dropped and read whole when next asked for. A
// contract with more settled segments than this is not kept.
const settledSegmentsBudget = 20_000

// segmentCache keeps the settled part of contracts' segment chains as last
// decoded. A segment is settled once its successor exists, and migration
// 0021 refuses any update of it from then on, so a read of the contract
// sends only the segments after the settled ones held. Every answer to a
// change shows its contract with all its segments: without the cache
// Postgres built, and the API decoded, every segment's JSON each time, about
// 30 µs a segment, which grew with every change a contract had had.
// The segments it returns share their lines, currency and predecessor's id
// with it: callers must not modify those.
type segmentCache struct {
	mu   sync.Mutex
	held map[string]settledSegments
	size int // segments held, over all contracts
}

// settledSegments is a contract's chain from its first segment up to, and
// not including, the segment next (its id) that followed them when read.
type settledSegments struct {
	segments []domain.Segment
	next     string
}

func (c *segmentCache) get(contractID string) settledSegments {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[contractID]
}

// keep holds the settled part of chain, a contract's segments as read
// whole: all but the last.
func (c *segmentCache) keep(contractID string, chain []domain.Segment) {
	if len(chain) < 2 || len(chain)-1 > settledSegmentsBudget {
		return
	}
	settled, next := chain[:len(chain)-1], chain[len(chain)-1].ID
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.held[contractID]
	if ok && old.next == next {
		return
	}
	c.size -= len(old.segments)
	delete(c.held, contractID)
	for other, s := range c.held {
		if c.size+len(settled) <= settledSegmentsBudget {
			break
		}
		delete(c.held, other)
		c.size -= len(s.segments)
	}
	if c.held == nil {
		c.held = make(map[string]settledSegments)
	}
	c.held[contractID] = settledSegments{segments: slices.Clone(settled), next: next}
	c.size += len(settled)
}

func (c *segmentCache) forget(contractID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size -= len(c.held[contractID].segments)
	delete(c.held, contractID)
}

// loadContract is the package's loadContract through the cache: for a
// contract named by its uuid whose settled segments are held, Postgres sends
// only those after them. The first of those must be the one that followed
// them when they were read: a database restored to an earlier point, say,
// may have settled them otherwise, and the contract is then read whole.
func (c *segmentCache) loadContract(ctx context.Context, q sqlx.QueryerContext, tenantID, key string) (domain.Contract, error) {
	var held settledSegments
	if id, ok := canonicalID(key); ok {
		held = c.get(id)
	}
	ct, err := loadContract(ctx, q, tenantID, key, len(held.segments))
	switch {
	case err != nil:
		return ct, err
	case len(held.segments) == 0:
	case len(ct.Segments) > 0 && ct.Segments[0].ID == held.next:
		ct.Segments = held.followedBy(ct)
	default:
		c.forget(ct.ID)
		if ct, err = loadContract(ctx, q, tenantID, key, 0); err != nil {
			return ct, err
		}
	}
	c.keep(ct.ID, ct.Segments)
	return ct, nil
}

// followedBy is the whole chain of ct, read with the segments after the
// ones held: copies of those, numbered as ct is now (should a number ever
// change), then ct's.
func (h settledSegments) followedBy(ct domain.Contract) []domain.Segment {
	chain := make([]domain.Segment, 0, len(h.segments)+len(ct.Segments))
	for _, seg := range h.segments {
		seg.AccountNumber, seg.ContractNumber = ct.AccountNumber, ct.Number
		chain = append(chain, seg)
	}
	return append(chain, ct.Segments...)
}
