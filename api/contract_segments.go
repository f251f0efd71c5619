package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// segmentList is a page of a contract's segments, in chain order.
type segmentList struct {
	Items         []segmentView `json:"items"`
	NextPageToken string        `json:"nextPageToken,omitempty"`
}

// listContractSegments lists a contract's whole chain of segments a page at
// a time, from its first: a read of the contract shows only its newest
// (store.SegmentsShown). A contract the caller may not see is a 404, as for
// GET /api/contracts/{id}.
func (s *server) listContractSegments(c *gin.Context) {
	pageSize, after, err := positionPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, tenantID := c.Request.Context(), principal(c).TenantID
	segs, last, more, err := s.Store.ContractSegments(ctx, scope(c), c.Param("id"), after, pageSize)
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	var ids []string
	for _, seg := range segs {
		ids = append(ids, seg.CreatedBy, seg.UpdatedBy)
	}
	names, err := s.Store.ActorNames(ctx, tenantID, ids)
	if err != nil {
		s.fail(c, fmt.Errorf("name segment actors: %w", err))
		return
	}
	page := segmentList{Items: nonNil(segmentViewsOf(segs, names))}
	if more {
		page.NextPageToken = encodePageToken(last)
	}
	c.JSON(http.StatusOK, page)
}
