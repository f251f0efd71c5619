package store

import (
	"context"
	"slices"
	"sync"
	"unsafe"

	"github.com/jmoiron/sqlx"

	"github.com/contractd/contractd/internal/domain"
)

// settledSegmentsBudget bounds how many bytes of settled segments a process
// keeps decoded, over all contracts, as footprint counts them (a segment of
// one line takes about 600); beyond it arbitrary contracts' are dropped and
// read whole when next asked for. A contract whose settled segments take
// more than this is not kept. The bound is on bytes, not segments: a
// segment's lines are as many as its catalog's offerings allow.
const settledSegmentsBudget = 32 << 20

// segmentCache keeps the newest settled segments of contracts as last
// decoded, as many as a read shows with one segment after them
// (SegmentsShown - 1). A segment is settled once its successor exists, and
// migration 0021 refuses any update of it from then on, so a read of the
// contract asks Postgres only for the segments after the ones held. Every
// answer to a change shows its contract with its newest segments: without
// the cache Postgres built, and the API decoded, each shown segment's JSON
// each time, about 30 µs a segment. The segments it returns share their
// lines, currency and predecessor's id with it: callers must not modify
// those.
type segmentCache struct {
	mu     sync.Mutex
	held   map[string]settledSegments
	size   int // bytes held, over all contracts (see footprint)
	budget int // the most bytes held; settledSegmentsBudget when 0
}

// settledSegments are a contract's newest settled segments, in chain order:
// the last is at position through and was followed by the segment next (its
// id) when read.
type settledSegments struct {
	segments []domain.Segment
	through  int64
	next     string
	size     int // the segments' footprint
}

func (c *segmentCache) get(contractID string) settledSegments {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[contractID]
}

// keep holds the newest settled part of chain, the newest of a contract's
// count segments as read: all but the last, at most SegmentsShown - 1.
func (c *segmentCache) keep(contractID string, chain []domain.Segment, count int64) {
	if len(chain) < 2 {
		return
	}
	settled, next := chain[max(len(chain)-SegmentsShown, 0):len(chain)-1], chain[len(chain)-1].ID
	budget := c.budget
	if budget == 0 {
		budget = settledSegmentsBudget
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.held[contractID]
	if ok && old.next == next {
		return
	}
	c.size -= old.size
	delete(c.held, contractID)
	size := 0
	for _, seg := range settled {
		size += footprint(seg)
	}
	if size > budget {
		return
	}
	for other, s := range c.held {
		if c.size+size <= budget {
			break
		}
		delete(c.held, other)
		c.size -= s.size
	}
	if c.held == nil {
		c.held = make(map[string]settledSegments)
	}
	c.held[contractID] = settledSegments{segments: slices.Clone(settled), through: count - 1, next: next, size: size}
	c.size += size
}

// footprint is about how many bytes seg takes decoded: its struct, its
// lines' and products', and the text they hold.
func footprint(seg domain.Segment) int {
	n := int(unsafe.Sizeof(seg)) + len(seg.AccountNumber) + len(seg.ContractNumber) + len(seg.PlanID) +
		len(seg.BillingCycleType) + len(seg.Status) + len(seg.ID) + len(seg.CreatedBy) + len(seg.UpdatedBy)
	if p := seg.PreviousContractSegmentID; p != nil {
		n += len(*p)
	}
	for _, c := range seg.Currency {
		n += int(unsafe.Sizeof(c)) + len(c)
	}
	for _, l := range seg.Lines {
		n += int(unsafe.Sizeof(l)) + len(l.OfferingID) + len(l.RateID) + len(l.SalesItemCode)
		for _, p := range l.Products {
			n += int(unsafe.Sizeof(p)) + len(p.ProductID)
			if p.UnitPrice != nil {
				n += int(unsafe.Sizeof(*p.UnitPrice))
			}
		}
	}
	return n
}

func (c *segmentCache) forget(contractID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size -= c.held[contractID].size
	delete(c.held, contractID)
}

// loadContract is the package's loadContract through the cache: for a
// contract named by its uuid whose settled segments are held, Postgres sends
// only the newest of those after them. When as many as a read shows have
// followed them, those are the contract as read afresh. Otherwise the first
// must be the one that followed them when they were read: a database
// restored to an earlier point, say, may have settled them otherwise, and
// the contract is then read again from its newest segment.
func (c *segmentCache) loadContract(ctx context.Context, q sqlx.QueryerContext, tenantID, key string) (domain.Contract, error) {
	var held settledSegments
	if id, ok := canonicalID(key); ok {
		held = c.get(id)
	}
	ct, err := loadContract(ctx, q, tenantID, key, held.through)
	switch {
	case err != nil:
		return ct, err
	case len(held.segments) == 0:
	case ct.SegmentCount-held.through >= SegmentsShown:
		// So many followed them that none held is shown: ct is as read afresh.
	case len(ct.Segments) > 0 && ct.Segments[0].ID == held.next:
		ct.Segments = held.followedBy(ct)
	default:
		c.forget(ct.ID)
		if ct, err = loadContract(ctx, q, tenantID, key, 0); err != nil {
			return ct, err
		}
	}
	c.keep(ct.ID, ct.Segments, ct.SegmentCount)
	return ct, nil
}

// followedBy is the newest SegmentsShown of ct's chain, read with the
// segments after the ones held: copies of those, numbered as ct is now
// (should a number ever change), then ct's.
func (h settledSegments) followedBy(ct domain.Contract) []domain.Segment {
	held := h.segments[max(len(h.segments)+len(ct.Segments)-SegmentsShown, 0):]
	chain := make([]domain.Segment, 0, len(held)+len(ct.Segments))
	for _, seg := range held {
		seg.AccountNumber, seg.ContractNumber = ct.AccountNumber, ct.Number
		chain = append(chain, seg)
	}
	return append(chain, ct.Segments...)
}
