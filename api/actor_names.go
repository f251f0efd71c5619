package api

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
)

// People by name: the service's own surface shows, beside every actor's
// uuid, the display name of the key that actor holds, as an extra field
// (actorName, submittedByName, ...) the uuid fields keep their meaning
// beside. Each answer resolves every actor it names in one lookup
// (store.ActorNames); actors that are no key, such as the workflows'
// "system", get no name field. The seed surfaces keep their own shapes.

// amendmentView is an amendment with its submitter's and its history's
// actors' names.
type amendmentView struct {
	domain.Amendment
	SubmittedByName string               `json:"submittedByName,omitempty"`
	History         []amendmentEventView `json:"history"`
}

type amendmentEventView struct {
	domain.AmendmentEvent
	ActorName string `json:"actorName,omitempty"`
}

// amendmentViews names the actors of ams with one lookup for all of them.
func (s *server) amendmentViews(ctx context.Context, tenantID string, ams ...domain.Amendment) ([]amendmentView, error) {
	var ids []string
	for _, am := range ams {
		ids = append(ids, am.SubmittedBy)
		for _, e := range am.History {
			ids = append(ids, e.ActorID)
		}
	}
	names, err := s.Store.ActorNames(ctx, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("name amendment actors: %w", err)
	}
	views := make([]amendmentView, len(ams))
	for i, am := range ams {
		views[i] = amendmentView{Amendment: am, SubmittedByName: names[am.SubmittedBy],
			History: viewsOf(am.History, func(e domain.AmendmentEvent) amendmentEventView {
				return amendmentEventView{AmendmentEvent: e, ActorName: names[e.ActorID]}
			})}
	}
	return views, nil
}

// amendmentView names the actors of one amendment.
func (s *server) amendmentView(ctx context.Context, tenantID string, am domain.Amendment) (amendmentView, error) {
	views, err := s.amendmentViews(ctx, tenantID, am)
	if err != nil {
		return amendmentView{}, err
	}
	return views[0], nil
}

// contractView is a contract with the names of who created and last
// updated it and its segments, and of who changed its payment schedule.
type contractView struct {
	domain.Contract
	CreatedByName   string              `json:"createdByName,omitempty"`
	UpdatedByName   string              `json:"updatedByName,omitempty"`
	Segments        []segmentView       `json:"segments"`
	PaymentSchedule paymentScheduleView `json:"paymentSchedule"`
}

type segmentView struct {
	domain.Segment
	CreatedByName string `json:"createdByName,omitempty"`
	UpdatedByName string `json:"updatedByName,omitempty"`
}

type paymentScheduleView struct {
	domain.PaymentSchedule
	History []scheduleEventView `json:"history"`
}

type scheduleEventView struct {
	domain.ScheduleEvent
	ActorName string `json:"actorName,omitempty"`
}

// segmentViewsOf shows segs with their actors' names.
func segmentViewsOf(segs []domain.Segment, names map[string]string) []segmentView {
	return viewsOf(segs, func(seg domain.Segment) segmentView {
		return segmentView{Segment: seg, CreatedByName: names[seg.CreatedBy], UpdatedByName: names[seg.UpdatedBy]}
	})
}

// scheduleEventViewsOf shows events with their actors' names.
func scheduleEventViewsOf(events []domain.ScheduleEvent, names map[string]string) []scheduleEventView {
	return viewsOf(events, func(e domain.ScheduleEvent) scheduleEventView {
		return scheduleEventView{ScheduleEvent: e, ActorName: names[e.ActorID]}
	})
}

// contractViews names the actors of cts with one lookup for all of them.
// Each is shown as the caller is shown it (shownTo).
func (s *server) contractViews(c *gin.Context, cts []domain.Contract) ([]contractView, error) {
	var ids []string
	for _, ct := range cts {
		ids = append(ids, ct.CreatedBy, ct.UpdatedBy)
		for _, seg := range ct.Segments {
			ids = append(ids, seg.CreatedBy, seg.UpdatedBy)
		}
		for _, e := range ct.PaymentSchedule.History {
			ids = append(ids, e.ActorID)
		}
	}
	names, err := s.Store.ActorNames(c.Request.Context(), principal(c).TenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("name contract actors: %w", err)
	}
	return viewsOf(cts, func(ct domain.Contract) contractView {
		ct = shownTo(c, ct)
		return contractView{
			Contract: ct, CreatedByName: names[ct.CreatedBy], UpdatedByName: names[ct.UpdatedBy],
			Segments: segmentViewsOf(ct.Segments, names),
			PaymentSchedule: paymentScheduleView{PaymentSchedule: ct.PaymentSchedule,
				History: scheduleEventViewsOf(ct.PaymentSchedule.History, names)},
		}
	}), nil
}
