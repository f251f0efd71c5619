package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// A read of a contract shows only the newest of the lists that grow with
// it (store.SegmentsShown segments, store.ScheduleHistoryShown schedule
// events) and counts them all; these routes list each whole, a page at a
// time, from its first item. A contract the caller may not see is a 404,
// as for GET /api/contracts/{id}.

// itemList is a page of one of a contract's lists, in order.
type itemList[V any] struct {
	Items         []V    `json:"items"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// listContractSegments lists a contract's whole chain of segments.
func (s *server) listContractSegments(c *gin.Context) {
	listContractItems(s, c, "segment", s.Store.ContractSegments,
		func(seg domain.Segment) []string { return []string{seg.CreatedBy, seg.UpdatedBy} }, segmentViewsOf)
}

// listContractScheduleHistory lists every cancel and restart of a
// contract's payment schedule, from its creation.
func (s *server) listContractScheduleHistory(c *gin.Context) {
	listContractItems(s, c, "schedule event", s.Store.ContractScheduleHistory,
		func(e domain.ScheduleEvent) []string { return []string{e.ActorID} }, scheduleEventViewsOf)
}

// pageReader reads a page of one of a contract's lists (see
// store.ContractSegments).
type pageReader[T any] func(ctx context.Context, sc store.Scope, key string, after int64, pageSize int) ([]T, int64, bool, error)

// listContractItems answers a page of the contract's list that read reads,
// its items shown by view with the names of their actors.
func listContractItems[T, V any](s *server, c *gin.Context, what string, read pageReader[T],
	actors func(T) []string, view func([]T, map[string]string) []V) {
	pageSize, after, err := positionPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, tenantID := c.Request.Context(), principal(c).TenantID
	items, last, more, err := read(ctx, scope(c), c.Param("id"), after, pageSize)
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	var ids []string
	for _, item := range items {
		ids = append(ids, actors(item)...)
	}
	names, err := s.Store.ActorNames(ctx, tenantID, ids)
	if err != nil {
		s.fail(c, fmt.Errorf("name %s actors: %w", what, err))
		return
	}
	out := itemList[V]{Items: nonNil(view(items, names))}
	if more {
		out.NextPageToken = encodePageToken(last)
	}
	c.JSON(http.StatusOK, out)
}
