// Package flow is the Temporal contract between the API, the workflows and
// the activities: the task queue, the names workflows are registered and
// started under, their Update and signal names, deterministic workflow ids,
// the search attributes, the payload of every workflow and activity, and a
// typed client (Client) through which everything outside the worker starts
// and talks to workflows.
//
// Payloads are written into workflow histories, so their JSON encoding is a
// compatibility promise: field names (Go field names where a type has no
// json tags) must not change, or histories already recorded stop replaying.
// That is why they are types of their own here and never store rows.
package flow

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
)

// DefaultTaskQueue is the queue the contract workers poll unless configured
// otherwise (TEMPORAL_TASK_QUEUE); tests give each test its own.
const DefaultTaskQueue = "contracts"

// Workflow type names: what the worker registers each workflow under and
// what clients start. They are the workflows' original Go function names,
// which recorded histories hold.
const (
	AmendmentWorkflow       = "AmendmentWorkflow"
	ContractActionWorkflow  = "ContractActionWorkflow"
	ScheduleChangeWorkflow  = "ScheduleChangeWorkflow"
	BillingRunWorkflow      = "BillingRunWorkflow"
	DunningWorkflow         = "DunningWorkflow"
	DailyBillingWorkflow    = "DailyBillingWorkflow"
	WebhookDispatchWorkflow = "WebhookDispatchWorkflow"
	WebhookDeliveryWorkflow = "WebhookDeliveryWorkflow"
	WebhookLaneWorkflow     = "WebhookLaneWorkflow"
)

// Update names clients send to an amendment workflow.
const (
	// UpdateOutcome waits until the amendment is settled (applied, scheduled,
	// held for review, or refused) and returns where it stands; sent with
	// Update-with-Start so the caller gets a synchronous answer.
	UpdateOutcome = "outcome"
	// UpdateWithdraw withdraws a SCHEDULED or REVIEW amendment.
	UpdateWithdraw = "withdraw"
	// UpdateApprove and UpdateReject decide an amendment held in REVIEW.
	UpdateApprove = "approve"
	UpdateReject  = "reject"
	// UpdateTimelineChanged tells an amendment workflow that its contract's
	// timeline re-priced or failed it: it reads its amendment again. The
	// service sends it (activity NotifyTimeline). It is an Update, not a
	// signal: a signal that reaches a workflow as it completes makes Temporal
	// refuse that completion, with the Update it answered; an Update that
	// comes too late is refused on its own.
	UpdateTimelineChanged = "timeline-changed"
)

// NotYourTurn is the type of the (retryable) error an apply fails with while
// an amendment before it on its contract's timeline is still open; the
// amendment's workflow waits for the timeline to change rather than
// retrying at once (see workflows' applyInTurn).
const NotYourTurn = "NotYourTurn"

// PaymentChanged is the type of the error an apply fails with when the
// amendment's up-front payment is no longer the amount its workflow
// authorised (the timeline re-priced it meanwhile); its detail is the
// amount now due. Nothing was applied: the workflow authorises that
// amount instead and applies again.
const PaymentChanged = "PaymentChanged"

// WebhookWakeSignal tells a lane workflow (or a delivery workflow from
// before lanes) that it may have deliveries due.
const WebhookWakeSignal = "wake"

// BillingScheduleID names the Temporal Schedule that bills every day.
const BillingScheduleID = "billing-daily"

// Search attributes operators filter on in the Temporal UI.
var (
	TenantIDKey        = temporal.NewSearchAttributeKeyKeyword("TenantId")
	ContractIDKey      = temporal.NewSearchAttributeKeyKeyword("ContractId")
	AmendmentActionKey = temporal.NewSearchAttributeKeyKeyword("AmendmentAction")
	AmendmentStatusKey = temporal.NewSearchAttributeKeyKeyword("AmendmentStatus")
)

// SearchAttributes lists the custom attributes a namespace must have registered.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	TenantIDKey.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ContractIDKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AmendmentActionKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AmendmentStatusKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// AmendmentWorkflowID is deterministic per amendment.
func AmendmentWorkflowID(amendmentID string) string { return "amendment/" + amendmentID }

// ContractActionWorkflowID is deterministic per tenant and action, so a retried
// request (same Idempotency-Key, same action id) joins the first execution.
func ContractActionWorkflowID(tenantID, actionID string) string {
	return "contract-action/" + tenantID + "/" + actionID
}

// ScheduleChangeWorkflowID is unique per change: concurrent cancels of one
// contract are separate changes, serialised by the contract row's lock, not
// one execution that would answer both alike. A request repeated with its
// Idempotency-Key names the same change, so it joins the first's execution.
func ScheduleChangeWorkflowID(tenantID, changeID string) string {
	return "schedule-change/" + tenantID + "/" + changeID
}

// BillingRunWorkflowID allows one run per tenant and date at a time; a
// second request for the same date joins it.
func BillingRunWorkflowID(tenantID string, asOf domain.Date) string {
	return "billing-run/" + tenantID + "/" + asOf.String()
}

// DunningWorkflowID is per invoice: an invoice has one dunning at a time,
// started by the run whose collection failed and, once it has closed,
// again by each restart of its schedule that finds it unpaid.
func DunningWorkflowID(inv InvoiceRef) string {
	return "dunning/" + inv.TenantID + "/" + inv.InvoiceID
}

// WebhookDispatchWorkflowID: one dispatcher per tenant.
func WebhookDispatchWorkflowID(tenantID string) string {
	return "webhook-dispatch/" + tenantID
}

// WebhookDeliveryWorkflowID: one delivery workflow per queue, so a queue's
// events go out one at a time, in order.
func WebhookDeliveryWorkflowID(q WebhookQueue) string {
	return "webhook-delivery/" + q.TenantID + "/" + q.SubscriptionID + "/" + q.ContractID
}
