package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/termination"
)

// The Contract/Termination v5 surface (seed: contract-termination-v5.txt):
// early-termination penalty definitions and their period charges. They are
// reference data, like the catalog, so they are written through the store
// directly, each request in one transaction, rather than through a
// workflow. The write engine (fields, the PATCH envelope, the unit of work)
// is internal/termination; these handlers decode, call it and encode.
//
// Store calls take c.Request.Context(), never c: gin recycles its Context
// once a handler returns, while database/sql may still read the context from
// a goroutine of its own.

// trackingID is the v5 name of the request id, so the access log and error
// logs record it (as requestId) along with every answer.
func trackingID(c *gin.Context) string { return c.GetString(requestIDKey) }

func trackingHeader(c *gin.Context) {
	c.Header("X-Tracking-Id", trackingID(c))
	c.Next()
}

// v5Error is the surface's one error body, auth failures included.
type v5Error struct {
	TrackingID string   `json:"trackingId"`
	Message    string   `json:"message"`
	Problems   []string `json:"problems,omitempty"`
}

// v5Surface renders every failure of the surface as a v5Error.
type v5Surface struct{}

// render sets X-Tracking-Id itself too: a path or method no route has
// (NoRoute, NoMethod) is answered without the group's trackingHeader.
func (v5Surface) render(c *gin.Context, f failure) {
	c.Header("X-Tracking-Id", trackingID(c))
	c.JSON(f.Status, v5Error{TrackingID: trackingID(c), Message: f.Message, Problems: f.Problems})
}

func (s *server) failV5(c *gin.Context, err error) { s.failAs(c, v5Surface{}, err) }

func (s *server) listTerminations(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), principal(c).TenantID
	items, err := s.Store.Terminations(ctx, tenantID, 0, 0)
	if err != nil {
		s.failV5(c, err)
		return
	}
	views, err := s.terminationViews(ctx, tenantID, items, false)
	if err != nil {
		s.failV5(c, err)
		return
	}
	c.JSON(http.StatusOK, listResponse{TrackingID: trackingID(c), counted: countAll(views)})
}

func (s *server) pagedTerminations(withDetails bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		page, err := paginationParams(c)
		if err != nil {
			s.failV5(c, err)
			return
		}
		ctx, tenantID := c.Request.Context(), principal(c).TenantID
		items, err := s.Store.Terminations(ctx, tenantID, page.offset(), page.PageSize)
		if err != nil {
			s.failV5(c, err)
			return
		}
		views, err := s.terminationViews(ctx, tenantID, items, withDetails)
		if err != nil {
			s.failV5(c, err)
			return
		}
		resp := pagedResponse{TrackingID: trackingID(c), Pagination: page, PagedResults: pagedResults{Items: nonNil(views)}}
		if !page.ExcludeTotalCount {
			total, err := s.Store.CountTerminations(ctx, tenantID)
			if err != nil {
				s.failV5(c, err)
				return
			}
			resp.PagedResults.TotalCount = &total
		}
		c.JSON(http.StatusOK, resp)
	}
}

func (s *server) getTermination(withDetails bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := terminationIDParam(c)
		if err != nil {
			s.failV5(c, err)
			return
		}
		ctx, tenantID := c.Request.Context(), principal(c).TenantID
		t, err := s.Store.Termination(ctx, tenantID, id)
		if err != nil {
			s.failV5(c, termination.NotFound(err, id))
			return
		}
		views, err := s.terminationViews(ctx, tenantID, []domain.Termination{t}, withDetails)
		if err != nil {
			s.failV5(c, err)
			return
		}
		c.JSON(http.StatusOK, instanceResponse{TrackingID: trackingID(c), Instance: views[0]})
	}
}

func terminationIDParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, domain.Errorf(domain.KindInvalid, "id", "the contract termination id %q is not a positive whole number", c.Param("id"))
	}
	return id, nil
}

// readOnlyFields are what the service fills in on an instance. A client may
// send them back (the seed's PUT sample sends identity; a GET's instance PUT
// back as it was carries them all) and they are ignored, except that an
// identity sent to PUT must name the termination in the path.
type readOnlyFields struct {
	Identity           *int64          `json:"identity"`
	PenaltyServiceName *string         `json:"penaltyServiceName"`
	Details            json.RawMessage `json:"details"`
}

// terminationInstance is a whole termination as POST and PUT take it.
type terminationInstance struct {
	readOnlyFields
	termination.Fields
}

func (s *server) createTermination(c *gin.Context) {
	var in terminationInstance
	if err := decodeBody(c, &in); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "create", termination.Create(in.Fields))
}

func (s *server) putTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	var in terminationInstance
	if err := decodeBody(c, &in); err != nil {
		s.failV5(c, err)
		return
	}
	if in.Identity != nil && *in.Identity != id {
		s.failV5(c, domain.Errorf(domain.KindInvalid, "identity", "identity %d does not match the id %d in the path", *in.Identity, id))
		return
	}
	if err := in.RequireAll(); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "update", termination.Update(id, in.Fields))
}

func (s *server) deleteTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "delete", termination.Delete(id))
}

func (s *server) patchTermination(c *gin.Context) {
	id, err := terminationIDParam(c)
	if err != nil {
		s.failV5(c, err)
		return
	}
	var patch termination.Patch
	if err := decodeBody(c, &patch); err != nil {
		s.failV5(c, err)
		return
	}
	if err := patch.Check(); err != nil {
		s.failV5(c, err)
		return
	}
	s.writeTerminations(c, "patch", termination.ApplyPatch(id, patch))
}

// writeTerminations runs op in one transaction, all or nothing, stamped
// with the business clock, and answers with every change it made.
func (s *server) writeTerminations(c *gin.Context, kind string, op termination.Op) {
	p := principal(c)
	by := store.TerminationWrite{TenantID: p.TenantID, ActorID: p.ActorID, At: s.Now()}
	changes, err := termination.Write(c.Request.Context(), s.Store, by, op)
	if err != nil {
		s.failV5(c, err)
		return
	}
	c.JSON(http.StatusOK, writeResponse{TrackingID: trackingID(c), Type: kind, Results: countAll(writeResults(kind, changes))})
}
