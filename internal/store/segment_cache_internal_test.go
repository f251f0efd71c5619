package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/contractd/contractd/internal/domain"
)

// chainOf is a contract's chain of n segments, each with lines lines of two
// products whose ids are idLen long.
func chainOf(n, lines, idLen int) []domain.Segment {
	chain := make([]domain.Segment, n)
	for i := range chain {
		seg := domain.Segment{ID: uuid.NewString(), AccountNumber: "ACC-1", ContractNumber: "CT-000001", PlanID: "plan",
			Currency: []string{"USD"}, BillingCycleType: "MONTHLY", Status: "expired", CreatedBy: "submitter", UpdatedBy: "submitter"}
		for l := range lines {
			price := int64(100)
			seg.Lines = append(seg.Lines, domain.Line{OfferingID: fmt.Sprint("offering-", l), RateID: "monthly", Products: []domain.ProductQuantity{
				{ProductID: strings.Repeat("p", idLen), Quantity: 1, UnitPrice: &price}, {ProductID: strings.Repeat("q", idLen), Quantity: 2},
			}})
		}
		if i > 0 {
			seg.PreviousContractSegmentID = &chain[i-1].ID
		}
		chain[i] = seg
	}
	return chain
}

// The cache holds no more of a contract's settled segments than a read
// shows, and its budget is on bytes, not segments: a contract whose segments
// carry many long lines takes its share by their size, others are dropped to
// make room for it, one larger than the whole budget is not held at all, and
// one that outgrows the budget is no longer held.
func TestTheSegmentCacheIsBoundedByBytes(t *testing.T) {
	one := footprint(chainOf(2, 1, 8)[1])
	big := footprint(chainOf(2, 50, 200)[1])
	t.Logf("a segment of one line: %d bytes; of fifty: %d", one, big)
	assert.InDelta(t, 600, one, 200, "a segment of one line")
	assert.Greater(t, big, 40*one, "fifty lines of long ids")

	held := SegmentsShown - 1
	c := segmentCache{budget: 4 * held * one} // four contracts of one-line segments fill it
	for _, id := range []string{"a", "b", "c", "d"} {
		chain := chainOf(held+5, 1, 8)
		c.keep(id, chain, int64(len(chain)))
	}
	assert.Equal(t, 4, len(c.held))
	assert.Len(t, c.held["a"].segments, held, "the newest settled ones, as many as a read shows")
	assert.EqualValues(t, held+4, c.held["a"].through, "the last settled segment's position")
	assert.Equal(t, c.budget, c.size)

	wide := chainOf(2, 50, 200)
	c.keep("wide", wide, 2)
	assert.True(t, holds(&c, "wide"))
	perSmall := held * one
	dropped := (footprint(wide[0]) + perSmall - 1) / perSmall
	assert.Equal(t, 4-dropped+1, len(c.held), "as many others dropped as make room for it")
	assert.LessOrEqual(t, c.size, c.budget)
	assert.Equal(t, heldBytes(&c), c.size, "the size held is the sum of the contracts'")
	kept := len(c.held)

	c.keep("huge", chainOf(3, 50, 200), 3)
	assert.False(t, holds(&c, "huge"), "more than the whole budget")
	assert.Equal(t, kept, len(c.held), "nothing dropped for a contract not held")

	c.keep("wide", chainOf(3, 50, 200), 3)
	assert.False(t, holds(&c, "wide"), "grown past the whole budget, its old entry is dropped too")
	assert.Equal(t, heldBytes(&c), c.size, "after dropping it")

	ids := slices.Collect(maps.Keys(c.held))
	c.forget(ids[0])
	assert.False(t, holds(&c, ids[0]))
	assert.Equal(t, heldBytes(&c), c.size, "after forgetting one")
}

func holds(c *segmentCache, contractID string) bool {
	_, ok := c.held[contractID]
	return ok
}

// heldBytes adds up the footprint of every segment c holds.
func heldBytes(c *segmentCache) int {
	n := 0
	for _, h := range c.held {
		for _, seg := range h.segments {
			n += footprint(seg)
		}
	}
	return n
}
