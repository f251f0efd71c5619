package api

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// getContract answers for the uuid, the CT- number or the numeric ref; another
// tenant's (or, for a customer key, another account's) contract is a 404
// exactly like a missing one. With asOf it answers the contract as it will be
// on that date (getContractAsOf).
func (s *server) getContract(c *gin.Context) {
	if asOf := queryParam(c, "asOf"); asOf != "" {
		s.getContractAsOf(c, asOf)
		return
	}
	ct, err := s.Store.Contract(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	views, err := s.contractViews(c, []domain.Contract{ct})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, views[0])
}

type contractList struct {
	Items         []contractView `json:"items"`
	NextPageToken string         `json:"nextPageToken,omitempty"`
}

func (s *server) listContracts(c *gin.Context) {
	status, err := statusParam(c, domain.ContractStatuses, true)
	if err != nil {
		s.fail(c, err)
		return
	}
	pageSize, after, err := positionPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, more, err := s.Store.Contracts(c.Request.Context(), scope(c), store.ContractFilter{
		AccountNumber: queryParam(c, "accountNumber"), Status: status, PageSize: pageSize, AfterRef: after,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.contractViews(c, items)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := contractList{Items: nonNil(views)}
	if more {
		out.NextPageToken = encodePageToken(items[len(items)-1].Ref)
	}
	c.JSON(http.StatusOK, out)
}

// statusParam reads the status a listing is filtered on, one of statuses
// (or none, when optional): a filter no item can match would answer an
// empty list, and a client filtering on "ACTIVE" would think it has none.
func statusParam(c *gin.Context, statuses []string, optional bool) (string, error) {
	status := queryParam(c, "status")
	if slices.Contains(statuses, status) || optional && status == "" {
		return status, nil
	}
	return "", domain.Errorf(domain.KindInvalid, "status", "status must be one of %v", statuses)
}

func pageSizeParam(c *gin.Context) (int, error) {
	return pageSizeWithin(c, defaultPageSize, maxPageSize)
}

// pageSizeWithin reads pageSize, def when it is not given, up to most.
func pageSizeWithin(c *gin.Context, def, most int) (int, error) {
	raw := queryParam(c, "pageSize")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		return 0, domain.Errorf(domain.KindInvalid, "pageSize", "pageSize must be a whole number from 1 to %d", most)
	}
	return n, nil
}

// positionPage reads the page size and the position a page goes on from
// (0 for the first page) of a list paged by position (encodePageToken).
func positionPage(c *gin.Context) (int, int64, error) {
	pageSize, err := pageSizeParam(c)
	if err != nil {
		return 0, 0, err
	}
	pos, err := decodePageToken(queryParam(c, "pageToken"))
	return pageSize, pos, err
}

// Page tokens are opaque to clients: the last position seen, base64-encoded.
func encodePageToken(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(pos, 10)))
}

func decodePageToken(tok string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if n, perr := strconv.ParseInt(string(raw), 10, 64); perr == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, domain.Errorf(domain.KindInvalid, "pageToken", "pageToken is not a token this service issued")
}

// notFoundAs gives a store miss a message naming what was asked for.
func notFoundAs(err error, format string, args ...any) error {
	if err == store.ErrNotFound {
		return domain.Errorf(domain.KindNotFound, "", format, args...)
	}
	return err
}
