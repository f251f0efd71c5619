package api

import (
	"context"
	"math"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/termination"
)

// The Contract/Termination v5 surface's answers.

const v5DefaultPageSize = 20

// counted is the surface's {totalCount, items} list.
type counted[T any] struct {
	TotalCount int `json:"totalCount"`
	Items      []T `json:"items"`
}

func countAll[T any](items []T) counted[T] {
	return counted[T]{TotalCount: len(items), Items: nonNil(items)}
}

// terminationView is a termination as the surface shows it; only the Detail
// endpoints fill Details.
type terminationView struct {
	domain.Termination
	Details *terminationDetails `json:"details,omitempty"`
}

// terminationDetails holds a termination's children the way the seed's
// Detail samples place them.
type terminationDetails struct {
	ContractTerminationPeriodCharges counted[domain.TerminationCharge] `json:"contractTerminationPeriodCharges"`
}

type listResponse struct {
	TrackingID string `json:"trackingId"`
	counted[terminationView]
}

type pagination struct {
	PageNumber        int  `json:"pageNumber"`
	PageSize          int  `json:"pageSize"`
	ExcludeTotalCount bool `json:"excludeTotalCount"`
}

type pagedResponse struct {
	TrackingID   string       `json:"trackingId"`
	Pagination   pagination   `json:"pagination"`
	PagedResults pagedResults `json:"pagedResults"`
}

type pagedResults struct {
	TotalCount *int              `json:"totalCount,omitempty"`
	Items      []terminationView `json:"items"`
}

type instanceResponse struct {
	TrackingID string          `json:"trackingId"`
	Instance   terminationView `json:"instance"`
}

type writeResponse struct {
	TrackingID string       `json:"trackingId"`
	Type       string       `json:"type"`
	Results    counted[any] `json:"results"`
}

// writeResult is one change a write made. Detached links are named by their
// two ends, as the seed's delete sample does; patchClientId echoes the patch
// item that caused the change.
type writeResult struct {
	Identity      int64  `json:"identity,omitempty"`
	LHSID         string `json:"lhsId,omitempty"`
	RHSID         int64  `json:"rhsId,omitempty"`
	Action        string `json:"action"`
	DTOTypeKey    string `json:"dtoTypeKey"`
	PatchClientID int64  `json:"patchClientId,omitempty"`
	Instance      any    `json:"instance,omitempty"`
}

// terminationViews names each termination's penalty service from the catalog
// and, when asked, attaches its period charges.
func (s *server) terminationViews(ctx context.Context, tenantID string, items []domain.Termination, withDetails bool) ([]terminationView, error) {
	cat, err := s.Store.Catalog(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var charges map[int64][]domain.TerminationCharge
	if withDetails {
		ids := make([]int64, len(items))
		for i, t := range items {
			ids[i] = t.ID
		}
		if charges, err = s.Store.ChargesByTermination(ctx, tenantID, ids); err != nil {
			return nil, err
		}
	}
	views := make([]terminationView, len(items))
	for i, t := range items {
		views[i] = terminationView{Termination: termination.WithServiceName(&cat, t)}
		if withDetails {
			views[i].Details = &terminationDetails{ContractTerminationPeriodCharges: countAll(charges[t.ID])}
		}
	}
	return views, nil
}

// paginationParams reads pageNumber, pageSize and excludeTotalCount; an empty
// or absent value takes its default.
func paginationParams(c *gin.Context) (pagination, error) {
	page := pagination{PageNumber: 1, PageSize: v5DefaultPageSize}
	var p domain.Problems
	if raw := queryParam(c, "pageNumber"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			p.Addf("pageNumber %q must be a whole number of at least 1", raw)
		}
		page.PageNumber = n
	}
	if raw := queryParam(c, "pageSize"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			p.Addf("pageSize %q must be a whole number from 1 to %d", raw, maxPageSize)
		}
		page.PageSize = n
	}
	if raw := queryParam(c, "excludeTotalCount"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			p.Addf("excludeTotalCount %q must be true or false", raw)
		}
		page.ExcludeTotalCount = b
	}
	return page, p.Err()
}

// offset saturates instead of overflowing: any page past the end is empty.
func (p pagination) offset() int64 {
	if int64(p.PageNumber-1) > math.MaxInt64/int64(p.PageSize) {
		return math.MaxInt64
	}
	return int64(p.PageNumber-1) * int64(p.PageSize)
}

// writeResults lists what a write did as the seed's samples show it: POST
// and PUT list the instances themselves, flat; DELETE and PATCH list each
// change with its action and type, a PATCH's with the instance inside.
func writeResults(kind string, changes []termination.Change) []any {
	items := make([]any, len(changes))
	for i, ch := range changes {
		if kind == "create" || kind == "update" {
			items[i] = ch.Instance
			continue
		}
		items[i] = writeResult{
			Identity: ch.Identity, LHSID: ch.LHSID, RHSID: ch.RHSID, Action: ch.Action,
			DTOTypeKey: ch.Type, PatchClientID: ch.PatchClientID, Instance: ch.Instance,
		}
	}
	return items
}
