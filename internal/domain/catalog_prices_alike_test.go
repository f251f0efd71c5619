package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
)

// Only the default renewal terms leave open amendments' prices alone: a
// change anywhere else, a name too, has them priced again.
func TestCatalogsPriceAlikeWhenOnlyTheirRenewalDiffers(t *testing.T) {
	current := demo.Catalog()
	renewed := demo.Catalog()
	renewed.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24}
	assert.True(t, renewed.PricesAlike(&current))
	assert.True(t, current.PricesAlike(&renewed))

	renamed := demo.Catalog()
	renamed.Offerings[0].Name += " (new)"
	assert.False(t, renamed.PricesAlike(&current))
	limited := demo.Catalog()
	limited.Limits = &domain.Limits{MaxQuantity: 10}
	assert.False(t, limited.PricesAlike(&current))
}
