package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
)

func (s *server) getCatalog(c *gin.Context) {
	cat, err := s.Store.Catalog(c.Request.Context(), principal(c).TenantID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, normaliseCatalog(cat))
}

// putCatalog replaces the tenant's catalog after validating it as a whole.
func (s *server) putCatalog(c *gin.Context) {
	var cat domain.Catalog
	if err := decodeBody(c, &cat); err != nil {
		s.fail(c, err)
		return
	}
	if err := cat.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	rebased, err := s.Store.PutCatalog(c.Request.Context(), p.TenantID, p.ActorID, cat, s.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	if rebased {
		// The catalog re-priced or failed pending amendments: tell their
		// workflows now. The marks stay on whatever this misses, for the next
		// change on those contracts to tell, and a failed amendment's
		// workflow also finds it failed when its date comes.
		if err := s.Store.TellRebased(c.Request.Context(), p.TenantID, "", s.Temporal.TellTimelineChanged); err != nil {
			s.Logger.Warn("tell workflows of re-priced amendments", "tenant", p.TenantID, "err", err)
		}
	}
	c.JSON(http.StatusOK, normaliseCatalog(cat))
}

// normaliseCatalog shows absent lists as [] rather than null, and the
// default renewal terms with the numbers left out filled in, as contracts
// get them: a catalog read and put back is then accepted as it was.
func normaliseCatalog(c domain.Catalog) domain.Catalog {
	if c.Renewal != nil {
		terms := c.Renewal.WithDefaults()
		c.Renewal = &terms
	}
	c.Products = nonNil(c.Products)
	c.Offerings = nonNil(c.Offerings)
	c.SalesItems = nonNil(c.SalesItems)
	c.CrossgradePaths = nonNil(c.CrossgradePaths)
	c.DiscountCodes = nonNil(c.DiscountCodes)
	c.ViewingCards = nonNil(c.ViewingCards)
	c.PenaltyServices = nonNil(c.PenaltyServices)
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
