package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/rules"
	"github.com/contractd/contractd/internal/store"
)

type approvalRules struct {
	Rules []rules.Rule `json:"rules"`
}

func (s *server) getApprovalRules(c *gin.Context) {
	list, err := s.Store.ApprovalRules(c.Request.Context(), principal(c).TenantID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, approvalRules{Rules: list})
}

// putApprovalRules replaces the tenant's rules after compiling every one:
// a rule that does not compile or yield a boolean is refused with its position.
func (s *server) putApprovalRules(c *gin.Context) {
	var doc approvalRules
	if err := decodeBody(c, &doc); err != nil {
		s.fail(c, err)
		return
	}
	if doc.Rules == nil {
		s.fail(c, domain.Errorf(domain.KindInvalid, "rules", "rules is required (an empty list removes every rule)"))
		return
	}
	if _, err := rules.Compile(doc.Rules); err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	if err := s.Store.PutApprovalRules(c.Request.Context(), p.TenantID, p.ActorID, doc.Rules, s.Now()); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, doc)
}

type amendmentPage struct {
	Items         []amendmentSummaryView `json:"items"`
	NextPageToken string                 `json:"nextPageToken,omitempty"`
}

// listApprovals is the approvers' inbox: amendments in REVIEW, oldest first.
func (s *server) listApprovals(c *gin.Context) { s.listAmendmentsIn(c, domain.StatusReview) }

// listAmendments lists amendments in the status the query names.
func (s *server) listAmendments(c *gin.Context) {
	status, err := statusParam(c, domain.Statuses, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.listAmendmentsIn(c, status)
}

func (s *server) listAmendmentsIn(c *gin.Context, status string) {
	pageSize, after, err := amendmentPageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, more, err := s.Store.AmendmentsByStatus(c.Request.Context(), scope(c), status, after, pageSize, s.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	submitters := make([]string, len(items))
	for i, a := range items {
		submitters[i] = a.SubmittedBy
	}
	names, err := s.Store.ActorNames(c.Request.Context(), principal(c).TenantID, submitters)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := amendmentPage{Items: nonNil(viewsOf(items, func(a store.AmendmentSummary) amendmentSummaryView {
		return toAmendmentSummaryView(a, names)
	}))}
	if more {
		last := items[len(items)-1]
		page.NextPageToken = listCursorOf(last.CreatedOn, last.ID)
	}
	c.JSON(http.StatusOK, page)
}

// amendmentPageParams reads an amendment list's pageSize and pageToken.
func amendmentPageParams(c *gin.Context) (int, *store.ListCursor, error) {
	pageSize, err := pageSizeParam(c)
	if err != nil {
		return 0, nil, err
	}
	after, err := decodeListCursor(queryParam(c, "pageToken"))
	return pageSize, after, err
}

// listCursorOf is the page token of an amendment list whose page ended at
// the amendment id created at createdAt (see decodeListCursor).
func listCursorOf(createdAt time.Time, id string) string {
	raw, _ := json.Marshal(listCursorToken{CreatedAt: createdAt, ID: id})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeListCursor reads an amendment list's page token: nil for none. A
// token is opaque to clients, so anything but the shape this service issues
// (an amendment id and a time it could have been created at) is refused,
// rather than handed to Postgres to fail on.
func decodeListCursor(tok string) (*store.ListCursor, error) {
	if tok == "" {
		return nil, nil
	}
	var after listCursorToken
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(raw, &after) != nil || !issuedID(after.ID) ||
		after.CreatedAt.Year() < 2000 || after.CreatedAt.Year() > maxDateYear {
		return nil, domain.Errorf(domain.KindInvalid, "pageToken", "pageToken is not a token this service issued")
	}
	return &store.ListCursor{CreatedAt: after.CreatedAt, ID: after.ID}, nil
}
