package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

type eventPage struct {
	Items   []eventView `json:"items"`
	HasMore bool        `json:"hasMore"`
}

// eventView is an event as the feed shows it, the same as a webhook
// delivers it (store.Event's own JSON) but the feed's own type.
type eventView struct {
	Sequence int64  `json:"sequence"`
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Type     string `json:"type"`
	// OccurredAt is business time (a test clock's time for a contract on
	// one); RecordedAt the wall time the event was recorded.
	OccurredAt  time.Time       `json:"occurredAt"`
	RecordedAt  time.Time       `json:"recordedAt"`
	ContractID  string          `json:"contractId"`
	AmendmentID *string         `json:"amendmentId,omitempty"`
	Data        json.RawMessage `json:"data"`
}

func toEventView(e store.Event) eventView { return eventView(e) }

// listEvents reads the tenant's events in order: `after` is the sequence of
// the last event the caller has seen; `type` narrows to one event type
// (its route refuses it given twice: reads). A page ends at pageSize events
// or before the event that would take it past
// maxEventPageBytes (eventPageFits), and says hasMore: the next page, after
// its last event, starts with the first one left out.
func (s *server) listEvents(c *gin.Context) {
	pageSize, err := pageSizeParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := store.EventFilter{Type: store.CanonicalEventType(queryParam(c, "type")), PageSize: pageSize, Fits: eventPageFits()}
	if raw := queryParam(c, "after"); raw != "" {
		if f.After, err = strconv.ParseInt(raw, 10, 64); err != nil || f.After < 0 {
			s.fail(c, domain.Errorf(domain.KindInvalid, "after", "after must be the sequence of an event, a whole number"))
			return
		}
	}
	if f.Type != "" && !slices.Contains(store.EventTypes, f.Type) {
		s.fail(c, domain.Errorf(domain.KindInvalid, "type", "%q is not an event type", f.Type))
		return
	}
	items, more, err := s.Store.Events(c.Request.Context(), principal(c).TenantID, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, eventPage{Items: nonNil(viewsOf(items, toEventView)), HasMore: more})
}

// maxEventPageBytes bounds an event feed page as it is sent, which its
// count alone did not: an event carries its contract or amendment whole,
// which a hostile catalog makes large (85 kB for a contract created on 100
// products whose ids are mostly '<', six bytes each as sent), so a page of
// 500 came to tens of megabytes or more, built in the API's memory and sent
// at once. 4 MiB still holds a full page of 500 ordinary events (a contract
// on the demo's Team offering is 1.9 kB).
const maxEventPageBytes = 4 << 20

// eventPageFits tells whether each next event fits in a page that is to stay
// within maxEventPageBytes as encoded (escapes included: a '<' is six bytes
// sent, one stored). The first event always fits, whatever its size, so the
// feed moves on past an event larger than a page.
func eventPageFits() func(store.Event) (bool, error) {
	// Each event adds itself and the comma before it, which the first has
	// not.
	const empty = len(`{"items":[],"hasMore":false}`) - 1
	size := empty
	return func(e store.Event) (bool, error) {
		encoded, err := json.Marshal(toEventView(e))
		if err != nil {
			return false, fmt.Errorf("encode event %d: %w", e.Sequence, err)
		}
		first := size == empty
		size += len(encoded) + 1
		return first || size <= maxEventPageBytes, nil
	}
}
