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

// The cache's budget is on bytes, not segments: a contract whose segments
// carry many long lines takes its share by their size, others are dropped to
// make room for it, one larger than the whole budget is not held at all,
// and one that outgrows the budget is no longer held.
func TestTheSegmentCacheIsBoundedByBytes(t *testing.T) {
	one := footprint(chainOf(2, 1, 8)[1])
	big := footprint(chainOf(2, 50, 200)[1])
	t.Logf("a segment of one line: %d bytes; of fifty: %d", one, big)
	assert.InDelta(t, 600, one, 200, "a segment of one line")
	assert.Greater(t, big, 40*one, "fifty lines of long ids")

	var c segmentCache
	perContract := settledSegmentsBudget / 4 / one // four such contracts fill the budget
	small := []string{"a", "b", "c", "d"}
	for _, id := range small {
		c.keep(id, chainOf(perContract+1, 1, 8))
	}
	assert.Equal(t, 4, len(c.held))
	assert.LessOrEqual(t, c.size, settledSegmentsBudget)

	wide := chainOf(settledSegmentsBudget/3/big+2, 50, 200)
	c.keep("wide", wide[:len(wide)-1])
	assert.True(t, holds(&c, "wide"))
	assert.Equal(t, 3, len(c.held), "a third of the budget made room by dropping two of the others")
	assert.LessOrEqual(t, c.size, settledSegmentsBudget)
	assert.Equal(t, heldBytes(&c), c.size, "the size held is the sum of the contracts'")
	c.keep("wide", wide)
	assert.Equal(t, 3, len(c.held), "one more settled segment replaces the contract's entry")
	assert.Equal(t, len(wide)-1, len(c.held["wide"].segments))
	assert.Equal(t, heldBytes(&c), c.size, "after the entry is replaced")

	c.keep("huge", chainOf(settledSegmentsBudget/big+3, 50, 200))
	assert.False(t, holds(&c, "huge"), "more than the whole budget")
	assert.Equal(t, 3, len(c.held), "nothing dropped for a contract not held")

	c.keep("wide", chainOf(settledSegmentsBudget/big+3, 50, 200))
	assert.False(t, holds(&c, "wide"), "grown past the whole budget, its old entry is dropped too")
	assert.Equal(t, heldBytes(&c), c.size, "after dropping it")

	held := slices.Collect(maps.Keys(c.held))
	c.forget(held[0])
	assert.False(t, holds(&c, held[0]))
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
