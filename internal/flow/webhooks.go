package flow

import "github.com/contractd/contractd/internal/webhooks"

// WebhookDispatchInput starts a tenant's dispatcher. Retry is handed to the
// lane workflows it starts.
type WebhookDispatchInput struct {
	TenantID string
	Retry    webhooks.Retry
}

// WebhookQueue is one subscription's deliveries about one contract, worked
// through in order by one delivery workflow (before lanes; see
// workflows/webhooks_legacy.go).
type WebhookQueue struct {
	TenantID       string
	SubscriptionID string
	ContractID     string
}

// WebhookFanOut is what fanning out a batch of events did: the last event it
// covered and the lanes (or, for a dispatcher from before lanes, the queues)
// that have deliveries of those events pending.
type WebhookFanOut struct {
	Upto   int64
	Queues []WebhookQueue `json:",omitempty"`
	Lanes  []WebhookLane  `json:",omitempty"`
}

// WebhookDeliveryInput is a delivery workflow's input: the queue it works
// through and how it retries.
type WebhookDeliveryInput struct {
	Queue WebhookQueue
	Retry webhooks.Retry
}

// PollWebhookEventsInput asks for the tenant's events after a sequence.
// Lanes says the dispatcher wakes lanes; without it (a dispatcher from
// before lanes), it wakes queues.
type PollWebhookEventsInput struct {
	TenantID string
	After    int64
	Lanes    bool `json:",omitempty"`
}

// WakeWebhookQueuesInput names queues whose delivery workflows must run.
type WakeWebhookQueuesInput struct {
	Queues []WebhookQueue
	Retry  webhooks.Retry
}

// WebhookDeliveryRef names a delivery.
type WebhookDeliveryRef struct {
	TenantID   string
	DeliveryID string
}

// GiveUpWebhookInput gives a delivery up, saying why.
type GiveUpWebhookInput struct {
	WebhookDeliveryRef
	Reason string
}
