package api

import (
	"context"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

// maxWebhookDescription bounds a subscription's description.
const maxWebhookDescription = 500

type webhookRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// webhookWithSecret is a subscription as created or rotated: the only
// answers that show its signing secret.
type webhookWithSecret struct {
	webhookView
	Secret string `json:"secret"`
}

type webhookList struct {
	Items []webhookView `json:"items"`
}

// createWebhook subscribes a URL to event types. Only events that commit
// after it are sent to it.
func (s *server) createWebhook(c *gin.Context) {
	var req webhookRequest
	if err := decodeBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	ctx, p := c.Request.Context(), principal(c)
	events, err := s.checkWebhook(ctx, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	secret, err := webhooks.NewSecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	// The dispatcher is started first, so no subscription exists without one.
	if err := s.startWebhookDispatch(ctx, p.TenantID); err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.Store.CreateWebhook(ctx, store.NewWebhook{
		ID: uuid.NewString(), TenantID: p.TenantID, URL: req.URL, Events: events, Description: req.Description,
		Secret: secret, ActorID: p.ActorID,
	}, s.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, webhookWithSecret{webhookView: webhookView(w), Secret: secret})
}

// checkWebhook validates a subscription and returns its event types without
// repeats.
func (s *server) checkWebhook(ctx context.Context, req webhookRequest) ([]string, error) {
	var problems domain.Problems
	if req.URL == "" {
		problems.Addf("url is required")
	} else if err := s.Webhooks.CheckURL(ctx, req.URL); err != nil {
		problems.Addf("url: %v", err)
	}
	if len(req.Events) == 0 {
		problems.Addf("events must name at least one event type")
	}
	var events []string
	for _, e := range req.Events {
		e = store.CanonicalEventType(e)
		switch {
		case !slices.Contains(store.EventTypes, e):
			problems.Addf("events: %q is not an event type", e)
		case !slices.Contains(events, e):
			events = append(events, e)
		}
	}
	if utf8.RuneCountInString(req.Description) > maxWebhookDescription {
		problems.Addf("description must not be longer than %d characters", maxWebhookDescription)
	}
	return events, problems.Err()
}

// startWebhookDispatch starts the tenant's dispatcher unless it runs.
func (s *server) startWebhookDispatch(ctx context.Context, tenantID string) error {
	return s.Temporal.EnsureWebhookDispatch(ctx, flow.WebhookDispatchInput{TenantID: tenantID, Retry: s.Webhooks.RetryPolicy()})
}

func (s *server) listWebhooks(c *gin.Context) {
	list, err := s.Store.Webhooks(c.Request.Context(), principal(c).TenantID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookList{Items: nonNil(viewsOf(list, toWebhookView))})
}

// deleteWebhook removes a subscription; its pending deliveries are cancelled.
func (s *server) deleteWebhook(c *gin.Context) {
	if err := s.Store.DeleteWebhook(c.Request.Context(), principal(c).TenantID, c.Param("id"), s.Now()); err != nil {
		s.fail(c, notFoundAs(err, "webhook %q does not exist", c.Param("id")))
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhookSecret issues a new signing secret, shown once; the old one
// stops signing at once, retries of earlier events included.
func (s *server) rotateWebhookSecret(c *gin.Context) {
	secret, err := webhooks.NewSecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.Store.RotateWebhookSecret(c.Request.Context(), principal(c).TenantID, c.Param("id"), secret, s.Now())
	if err != nil {
		s.fail(c, notFoundAs(err, "webhook %q does not exist", c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, webhookWithSecret{webhookView: webhookView(w), Secret: secret})
}

type deliveryPage struct {
	Items         []webhookDeliveryView `json:"items"`
	NextPageToken string                `json:"nextPageToken,omitempty"`
}

// listWebhookDeliveries shows a subscription's deliveries, newest first,
// with every attempt's status code, latency and the start of the answer.
func (s *server) listWebhookDeliveries(c *gin.Context) {
	pageSize, before, err := positionPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, more, err := s.Store.WebhookDeliveries(c.Request.Context(), principal(c).TenantID, c.Param("id"), before, pageSize)
	if err != nil {
		s.fail(c, notFoundAs(err, "webhook %q does not exist", c.Param("id")))
		return
	}
	page := deliveryPage{Items: nonNil(viewsOf(items, toWebhookDeliveryView))}
	if more {
		page.NextPageToken = encodePageToken(items[len(items)-1].Position)
	}
	c.JSON(http.StatusOK, page)
}

// redeliverWebhook sends a delivery's event again, as a new delivery that
// takes its event's place among its contract's deliveries in their lane.
func (s *server) redeliverWebhook(c *gin.Context) {
	ctx, p := c.Request.Context(), principal(c)
	// A delivery is stamped on the wall clock, not the business clock: it
	// records real HTTP traffic, and a redelivery is queued beside the
	// deliveries the dispatcher fans out on that clock (activities/webhooks.go).
	d, lane, err := s.Store.Redeliver(ctx, p.TenantID, c.Param("id"), c.Param("deliveryId"), time.Now())
	if err != nil {
		s.fail(c, notFoundAs(err, "webhook %q has no delivery %q", c.Param("id"), c.Param("deliveryId")))
		return
	}
	if err := s.Temporal.WakeWebhookLane(ctx, flow.WebhookLaneInput{Lane: flow.WebhookLane(lane), Retry: s.Webhooks.RetryPolicy()}); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toWebhookDeliveryView(d))
}
