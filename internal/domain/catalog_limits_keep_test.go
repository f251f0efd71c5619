package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A ceiling may not be lowered below what an active contract holds; one the
// current catalog already had below it (a contract stored before amounts
// were checked) may stay, so the operator can still change the rest.
func TestCatalogLimitsMayNotBeLoweredBelowWhatIsHeld(t *testing.T) {
	held := CatalogUsage{Quantity: Extent{Value: 25, Contract: "CT-7"}, Amount: Extent{Value: 38000, Contract: "CT-8"}}
	catalog := func(q, a int64) *Catalog { return &Catalog{Limits: &Limits{MaxQuantity: q, MaxAmount: a}} }
	var p Problems
	catalog(10, 30000).checkLimitsKeep(catalog(0, 0), held, &p)
	assert.Equal(t, Problems{
		"limits.maxQuantity 10 is below the quantity 25 contract CT-7 is billed at",
		"limits.maxAmount 30000 is below the amount 38000 contract CT-8 is billed at",
	}, p)

	p = nil
	catalog(25, 38000).checkLimitsKeep(catalog(0, 0), held, &p)
	assert.Empty(t, p, "at what is held")
	catalog(10, 30000).checkLimitsKeep(catalog(10, 30000), held, &p)
	assert.Empty(t, p, "kept where it already was")
	catalog(9, 30000).checkLimitsKeep(catalog(10, 30000), held, &p)
	assert.Len(t, p, 1, "lowered further")
}
