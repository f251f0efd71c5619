package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// Event types: what a state change announces.
const (
	EventContractCreated         = "contract.created"
	EventAmendmentReviewRequired = "amendment.review_required"
	EventAmendmentScheduled      = "amendment.scheduled"
	EventAmendmentApplied        = "amendment.applied"
	EventAmendmentRejected       = "amendment.rejected"
	EventAmendmentExpired        = "amendment.expired"
	EventAmendmentWithdrawn      = "amendment.withdrawn"
	EventAmendmentFailed         = "amendment.failed"
	EventAmendmentRepriced       = "amendment.repriced"
	EventContractCancelled       = "contract.canceled"
	EventContractRenewalUpcoming = "contract.renewal_upcoming"
	EventContractRenewed         = "contract.renewed"
	EventContractExpired         = "contract.expired"
	EventScheduleCancelled       = "schedule.canceled"
	EventScheduleRestarted       = "schedule.restarted"
	EventInvoiceCreated          = "invoice.created"
	EventPaymentCaptured         = "payment.captured"
	EventPaymentFailed           = "payment.failed"
	EventInvoicePaid             = "invoice.paid"
	EventCreditNoteCreated       = "credit_note.created"
	EventCreditNoteApplied       = "credit_note.applied"
	// EventCreditNoteRestored gives credit back to its note from an invoice
	// a payment in flight paid after the credit was set against it.
	EventCreditNoteRestored = "credit_note.restored"
)

// EventTypes lists every event type.
var EventTypes = []string{
	EventContractCreated, EventAmendmentReviewRequired, EventAmendmentScheduled, EventAmendmentApplied,
	EventAmendmentRejected, EventAmendmentExpired, EventAmendmentWithdrawn, EventAmendmentFailed, EventAmendmentRepriced,
	EventContractCancelled, EventContractRenewalUpcoming, EventContractRenewed, EventContractExpired, EventScheduleCancelled, EventScheduleRestarted, EventInvoiceCreated,
	EventPaymentCaptured, EventPaymentFailed, EventInvoicePaid, EventCreditNoteCreated, EventCreditNoteApplied,
	EventCreditNoteRestored,
}

// eventAliases are former names of event types, spelt "cancelled" before
// the service settled on the contract status's "canceled". Subscriptions and
// event filters still accept them; events carry the current name.
var eventAliases = map[string]string{
	"contract.cancelled": EventContractCancelled,
	"schedule.cancelled": EventScheduleCancelled,
}

// CanonicalEventType is the current name of an event type or of a former
// name of one; anything else is returned as it is.
func CanonicalEventType(t string) string {
	if current, ok := eventAliases[t]; ok {
		return current
	}
	return t
}

// amendmentEvents maps the statuses an amendment announces to their event.
// PENDING announces nothing: a pending amendment is applied at once.
var amendmentEvents = map[string]string{
	domain.StatusReview:    EventAmendmentReviewRequired,
	domain.StatusScheduled: EventAmendmentScheduled,
	domain.StatusApplied:   EventAmendmentApplied,
	domain.StatusRejected:  EventAmendmentRejected,
	domain.StatusExpired:   EventAmendmentExpired,
	domain.StatusWithdrawn: EventAmendmentWithdrawn,
	domain.StatusFailed:    EventAmendmentFailed,
}

// eventCounter names the tenant counter that numbers events.
const eventCounter = "event"

// Event is a domain event as the outbox holds it, GET /api/events lists it
// and webhooks deliver it. Data is a snapshot of what changed, as the API
// shows it.
//
// Its JSON tags are the body a webhook delivers (and a delivery job's form in
// workflow histories), so they stay; the event feed answers with its own view.
type Event struct {
	Sequence int64  `json:"sequence" db:"seq"`
	ID       string `json:"id" db:"id"`
	TenantID string `json:"tenantId" db:"tenant_id"`
	Type     string `json:"type" db:"type"`
	// OccurredAt is the event's business time: its contract's test
	// clock's time for a contract on one, else the wall clock's.
	// RecordedAt is when it was written, on the wall clock.
	OccurredAt  time.Time       `json:"occurredAt" db:"occurred_at"`
	RecordedAt  time.Time       `json:"recordedAt" db:"recorded_at"`
	ContractID  string          `json:"contractId" db:"contract_id"`
	AmendmentID *string         `json:"amendmentId,omitempty" db:"amendment_id"`
	Data        json.RawMessage `json:"data" db:"data"`
}

// newEvent is an event to append to the outbox.
type newEvent struct {
	TenantID    string
	Type        string
	ContractID  string
	AmendmentID *string
	At          time.Time
	Data        any
}

// insertOutboxEvent appends one event; see appendEvents.
func insertOutboxEvent(ctx context.Context, tx *sqlx.Tx, ev newEvent) error {
	return appendEvents(ctx, tx, []newEvent{ev})
}

// appendEvents appends events to the outbox, in order, in the transaction
// making the change they announce, so the two commit or roll back together.
// Their sequences come from the tenant's event counter, whose row stays
// locked until tx ends: the tenant's events are numbered in commit order.
// Callers append events last, after every other lock they take, so that wait
// never closes a cycle: a transaction of several steps gathers them until
// then (announcements). The one exception, an immediate change's events
// appended with its write, says why it is safe (announcedAmendment). However many there are, the events take their
// numbers and are written in one statement: a billing page's events cost
// one round trip, not one each.
func appendEvents(ctx context.Context, tx *sqlx.Tx, events []newEvent) error {
	if len(events) == 0 {
		return nil
	}
	args, err := eventArgs(events)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, appendEventsStatement, args...); err != nil {
		return fmt.Errorf("append %d events from %s: %w", len(events), events[0].Type, err)
	}
	return nil
}

// announcements are the events one transaction announces, gathered in the
// order it makes its changes, to append in one statement once it has taken
// every other lock it takes (see appendEvents). A step that appended its
// events as it went would hold the tenant's event counter while a later
// step locked another contract or a discount code, and wait in a cycle with
// a change that holds one of those and waits for the counter.
type announcements []newEvent

// add gathers events, after those gathered before.
func (a *announcements) add(events ...newEvent) { *a = append(*a, events...) }

// amendment gathers amendmentEvent, if the status is announced.
func (a *announcements) amendment(tenantID string, am domain.Amendment, now time.Time) {
	if ev, ok := amendmentEvent(tenantID, am, now); ok {
		a.add(ev)
	}
}

// contract gathers contractEventOf.
func (a *announcements) contract(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, amendmentID *string, typ string, now time.Time) error {
	ev, err := contractEventOf(ctx, tx, tenantID, contractID, amendmentID, typ, now)
	if err != nil {
		return err
	}
	a.add(ev)
	return nil
}

// append appends what was gathered; the transaction takes no new lock after
// it.
func (a announcements) append(ctx context.Context, tx *sqlx.Tx) error {
	return appendEvents(ctx, tx, a)
}

// eventArgs are the arguments of eventAppend's parameters for events, all
// of one tenant.
func eventArgs(events []newEvent) ([]any, error) {
	tenantID := events[0].TenantID
	ids := make([]string, len(events))
	types := make([]string, len(events))
	contracts := make([]string, len(events))
	amendments := make([]*string, len(events))
	data := make([]string, len(events))
	at := make([]string, len(events))
	for i, ev := range events {
		if ev.TenantID != tenantID {
			return nil, fmt.Errorf("append events: tenants %s and %s in one transaction", tenantID, ev.TenantID)
		}
		encoded, err := json.Marshal(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("encode %s event: %w", ev.Type, err)
		}
		ids[i], types[i], contracts[i], amendments[i] = uuid.NewString(), ev.Type, ev.ContractID, ev.AmendmentID
		data[i], at[i] = string(encoded), ev.At.Format(time.RFC3339Nano)
	}
	return []any{tenantID, eventCounter, int64(len(events)), pq.Array(ids), pq.Array(types), pq.Array(contracts),
		pq.Array(amendments), pq.Array(data), pq.Array(at)}, nil
}

// eventAppend is the work of appending events as two common table
// expressions, with eventArgs's nine parameters numbered from first: counter
// advances the tenant's event counter by the number of events, and appended
// writes them numbered by it (the counter's new value less their number,
// plus each one's ordinal). A statement that makes a change can append the
// events announcing it too, saving their round trip (see insertSegment).
func eventAppend(first int) string {
	p := func(i int) string { return "$" + strconv.Itoa(first+i) }
	return `counter AS (` + counterUpsert(p(0), p(1), p(2)) + `),
	appended AS (INSERT INTO outbox_events (tenant_id, seq, id, type, contract_id, amendment_id, data, occurred_at)
		SELECT ` + p(0) + `, counter.value - ` + p(2) + ` + e.n, e.id, e.type, e.contract_id, e.amendment_id, e.data, e.occurred_at
		FROM counter, unnest(` + p(3) + `::uuid[], ` + p(4) + `::text[], ` + p(5) + `::uuid[], ` + p(6) + `::uuid[], ` +
		p(7) + `::jsonb[], ` + p(8) + `::timestamptz[]) WITH ORDINALITY AS e (id, type, contract_id, amendment_id, data, occurred_at, n))`
}

// appendEventsStatement appends events ($1..$9, see eventArgs) and does
// nothing else.
var appendEventsStatement = `WITH ` + eventAppend(1) + ` SELECT`

func insertContractsCreated(ctx context.Context, tx *sqlx.Tx, tenantID string, contracts []domain.Contract, now time.Time) error {
	events := make([]newEvent, len(contracts))
	for i, c := range contracts {
		events[i] = newEvent{TenantID: tenantID, Type: EventContractCreated, ContractID: c.ID, At: now, Data: c}
	}
	return appendEvents(ctx, tx, events)
}

// amendmentEvent announces the status the amendment has reached; ok is
// false when that status is not announced.
func amendmentEvent(tenantID string, am domain.Amendment, now time.Time) (ev newEvent, ok bool) {
	typ, ok := amendmentEvents[am.Status]
	return newEvent{TenantID: tenantID, Type: typ, ContractID: am.ContractID, AmendmentID: &am.ID, At: now, Data: am}, ok
}

// openedEvents are what an amendment opened without applying announces, in
// order, for one statement: the status it reached, and for a renewal its
// quote as upcoming (the new prices and term, which bind unless an earlier
// change on the contract's timeline re-prices them).
func openedEvents(tenantID string, am domain.Amendment, now time.Time) []newEvent {
	var events []newEvent
	if ev, ok := amendmentEvent(tenantID, am, now); ok {
		events = append(events, ev)
	}
	if am.Action == domain.Renewal {
		events = append(events, newEvent{TenantID: tenantID, Type: EventContractRenewalUpcoming, ContractID: am.ContractID, AmendmentID: &am.ID, At: now, Data: am})
	}
	return events
}

// appliedEvents are what an applied amendment announces, in order: itself,
// the cancellation or renewal it made, and the invoice it raised. Its
// caller appends them with whatever else its transaction announces, in one
// statement.
func appliedEvents(ctx context.Context, tx *sqlx.Tx, tenantID string, am domain.Amendment, now time.Time) ([]newEvent, error) {
	var events []newEvent
	if ev, ok := amendmentEvent(tenantID, am, now); ok {
		events = append(events, ev)
	}
	if typ := contractEvent(am.Quote); typ != "" {
		ev, err := contractEventOf(ctx, tx, tenantID, am.ContractID, &am.ID, typ, now)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	if am.Invoice != nil {
		events = append(events, newEvent{
			TenantID: tenantID, Type: EventInvoiceCreated, ContractID: am.ContractID, AmendmentID: &am.ID, At: now, Data: am.Invoice,
		})
	}
	return events, nil
}

// contractEvent is what an applied quote announces of its contract, if anything.
func contractEvent(q domain.Quote) string {
	switch {
	case q.CancelsContract:
		return EventContractCancelled
	case q.Renewal != nil:
		return EventContractRenewed
	}
	return ""
}

// contractEventOf announces a change of the contract's status or term,
// showing the contract as reads do: its schedule history, its newest
// segments and how many it has.
func contractEventOf(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, amendmentID *string, typ string, now time.Time) (newEvent, error) {
	ct, err := loadContract(ctx, tx, tenantID, contractID, 0)
	if err != nil {
		return newEvent{}, err
	}
	return newEvent{TenantID: tenantID, Type: typ, ContractID: contractID, AmendmentID: amendmentID, At: now, Data: ct}, nil
}

// announceScheduleEvent appends to the outbox the schedule.canceled or
// schedule.restarted event of ev, which recordScheduleEvent wrote to the
// contract's schedule history.
func announceScheduleEvent(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, ev domain.ScheduleEvent) error {
	typ := EventScheduleRestarted
	if ev.Status == domain.ScheduleTerminated {
		typ = EventScheduleCancelled
	}
	return insertOutboxEvent(ctx, tx, newEvent{TenantID: tenantID, Type: typ, ContractID: contractID, At: ev.At, Data: ev})
}

// invoiceCreatedEvents announce the recurring invoices a billing step issued.
func invoiceCreatedEvents(ctx context.Context, tx *sqlx.Tx, tenantID string, invoiceIDs []string, now time.Time) ([]newEvent, error) {
	if len(invoiceIDs) == 0 {
		return nil, nil
	}
	invoices, err := loadInvoices(ctx, tx, `tenant_id = $1 AND id = ANY($2::uuid[])`, tenantID, pq.Array(invoiceIDs))
	if err != nil {
		return nil, err
	}
	events := make([]newEvent, len(invoices))
	for i, inv := range invoices {
		events[i] = newEvent{TenantID: tenantID, Type: EventInvoiceCreated, ContractID: inv.ContractID, At: now, Data: inv}
	}
	return events, nil
}

// paymentEventData is what payment.captured and payment.failed carry.
type paymentEventData struct {
	InvoiceID string `json:"invoiceId"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	CollectionAttempt
}

// paymentEvent announces how a collection attempt on an invoice ended; inv
// is the invoice as the attempt left it.
func paymentEvent(tenantID string, inv domain.Invoice, a CollectionAttempt) newEvent {
	typ, amount := EventPaymentFailed, inv.AmountDue // a failed attempt leaves due what it tried to take
	if a.Outcome == domain.CollectionSucceeded {
		typ = EventPaymentCaptured
	}
	if a.Amount != nil {
		amount = *a.Amount
	}
	return newEvent{
		TenantID: tenantID, Type: typ, ContractID: inv.ContractID, AmendmentID: inv.AmendmentID, At: a.At,
		Data: paymentEventData{InvoiceID: inv.ID, Amount: amount, Currency: inv.Currency, CollectionAttempt: a},
	}
}
