package api

import (
	"time"

	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// The service's own surface shows these views of store rows, so that a
// table's Go struct can change without changing an answer. Each has the
// fields of its row, in order, which lets a plain conversion build it and
// makes a row's new field a compile error here rather than a silent change
// on the wire.

// viewsOf maps rows to their views, keeping a nil list nil: it encodes as
// null, as the rows did.
func viewsOf[R, V any](rows []R, view func(R) V) []V {
	if rows == nil {
		return nil
	}
	out := make([]V, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out
}

// webhookView is a subscription; its signing secret is shown only when it
// is issued (webhookWithSecret).
type webhookView struct {
	ID             string         `json:"id"`
	URL            string         `json:"url"`
	Events         pq.StringArray `json:"events"`
	Description    string         `json:"description"`
	Status         string         `json:"status"`
	DisabledReason *string        `json:"disabledReason,omitempty"`
	CreatedOn      time.Time      `json:"createdOn"`
	CreatedBy      string         `json:"createdBy"`
	UpdatedOn      time.Time      `json:"updatedOn"`
}

func toWebhookView(w store.Webhook) webhookView { return webhookView(w) }

type webhookAttemptView struct {
	Attempt      int       `json:"attempt"`
	At           time.Time `json:"at"`
	StatusCode   *int      `json:"statusCode,omitempty"`
	LatencyMs    int64     `json:"latencyMs"`
	Error        *string   `json:"error,omitempty"`
	ResponseBody *string   `json:"responseBody,omitempty"`
}

func toWebhookAttemptView(a store.WebhookAttempt) webhookAttemptView { return webhookAttemptView(a) }

type webhookDeliveryView struct {
	ID            string               `json:"id"`
	EventID       string               `json:"eventId"`
	EventType     string               `json:"eventType"`
	EventSequence int64                `json:"eventSequence"`
	ContractID    string               `json:"contractId"`
	Status        string               `json:"status"`
	FailureReason *string              `json:"failureReason,omitempty"`
	RedeliveryOf  *string              `json:"redeliveryOf,omitempty"`
	CreatedOn     time.Time            `json:"createdOn"`
	UpdatedOn     time.Time            `json:"updatedOn"`
	Attempts      []webhookAttemptView `json:"attempts"`
}

func toWebhookDeliveryView(d store.WebhookDelivery) webhookDeliveryView {
	return webhookDeliveryView{
		ID: d.ID, EventID: d.EventID, EventType: d.EventType, EventSequence: d.EventSequence, ContractID: d.ContractID,
		Status: d.Status, FailureReason: d.FailureReason, RedeliveryOf: d.RedeliveryOf, CreatedOn: d.CreatedOn,
		UpdatedOn: d.UpdatedOn, Attempts: viewsOf(d.Attempts, toWebhookAttemptView),
	}
}

// amendmentSummaryView is one amendment in a listing such as the approvers' inbox.
type amendmentSummaryView struct {
	ID             string              `json:"id"`
	ContractID     string              `json:"contractId"`
	ContractNumber string              `json:"contractNumber"`
	AccountNumber  string              `json:"accountNumber"`
	Action         domain.Action       `json:"action"`
	Status         string              `json:"status"`
	Quote          quoteSummaryView    `json:"quote"`
	MatchedRule    *domain.MatchedRule `json:"matchedRule"`
	SubmittedBy    string              `json:"submittedBy"`
	Source         string              `json:"source"`
	CreatedOn      time.Time           `json:"createdOn"`
	ExpiresAt      *time.Time          `json:"expiresAt"`
	AgeSeconds     int64               `json:"ageSeconds"`
	// SubmittedByName is the submitter's display name (actor_names.go).
	SubmittedByName string `json:"submittedByName,omitempty"`
}

type quoteSummaryView struct {
	Currency        string      `json:"currency"`
	EffectiveDate   domain.Date `json:"effectiveDate"`
	RecurringBefore int64       `json:"recurringBefore"`
	RecurringAfter  int64       `json:"recurringAfter"`
	RecurringDelta  int64       `json:"recurringDelta"`
	ProrationTotal  int64       `json:"prorationTotal"`
}

// toAmendmentSummaryView shows a with its submitter's name from names.
func toAmendmentSummaryView(a store.AmendmentSummary, names map[string]string) amendmentSummaryView {
	return amendmentSummaryView{
		ID: a.ID, ContractID: a.ContractID, ContractNumber: a.ContractNumber, AccountNumber: a.AccountNumber,
		Action: a.Action, Status: a.Status, Quote: quoteSummaryView(a.Quote), MatchedRule: a.MatchedRule,
		SubmittedBy: a.SubmittedBy, Source: a.Source, CreatedOn: a.CreatedOn, ExpiresAt: a.ExpiresAt, AgeSeconds: a.AgeSeconds,
		SubmittedByName: names[a.SubmittedBy],
	}
}

// listCursorToken is an amendment list's page token before base64: the
// position after the last listed amendment.
type listCursorToken struct {
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"id"`
}
