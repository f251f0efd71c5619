package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Only the default renewal terms leave open amendments' prices alone: a
// change anywhere else, a name too, has them priced again.
func TestCatalogsPriceAlikeWhenOnlyTheirRenewalDiffers(t *testing.T) {
	current := pricesCatalog()
	renewed := pricesCatalog()
	renewed.Renewal = &RenewalTerms{Mode: AutoRenew, TermMonths: 24}
	assert.True(t, renewed.PricesAlike(current))
	assert.True(t, current.PricesAlike(renewed))

	renamed := pricesCatalog()
	renamed.Offerings[0].Name += " (new)"
	assert.False(t, renamed.PricesAlike(current))
	limited := pricesCatalog()
	limited.Limits = &Limits{MaxQuantity: 10}
	assert.False(t, limited.PricesAlike(current))
}
