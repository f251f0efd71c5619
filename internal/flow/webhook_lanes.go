package flow

import (
	"crypto/md5"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/contractd/contractd/internal/webhooks"
)

// WebhookLanes is how many lanes deliver one subscription's events. A
// contract's deliveries all go to one lane, so the lane can keep them in
// order; different contracts share the lanes, which deliver in parallel.
// The number is stored with each delivery (webhook_deliveries.lane): changing
// it would split a contract's pending deliveries over two lanes, and takes a
// migration moving them (0019_webhook_lanes.sql used 16).
const WebhookLanes = 16

// WebhookLaneOf is the lane a contract's deliveries go to: the first four
// bytes of the MD5 of its id, modulo WebhookLanes. Postgres computes the same
// (webhook_lane in 0019_webhook_lanes.sql), as fan-out assigns lanes there.
func WebhookLaneOf(contractID string) int {
	sum := md5.Sum([]byte(contractID))
	return int(binary.BigEndian.Uint32(sum[:4]) % WebhookLanes)
}

// WebhookLane is one lane of one subscription, worked by one lane workflow.
type WebhookLane struct {
	TenantID       string
	SubscriptionID string
	Lane           int
}

// WebhookLaneWorkflowID: one workflow per lane, so a lane's batches go out
// one after another.
func WebhookLaneWorkflowID(l WebhookLane) string {
	return "webhook-lane/" + l.TenantID + "/" + l.SubscriptionID + "/" + strconv.Itoa(l.Lane)
}

// WebhookLaneInput is a lane workflow's input: its lane and how failed
// deliveries are retried.
type WebhookLaneInput struct {
	Lane  WebhookLane
	Retry webhooks.Retry
}

// WakeWebhookLanesInput names lanes whose workflows must run.
type WakeWebhookLanesInput struct {
	Lanes []WebhookLane
	Retry webhooks.Retry
}

// DeliverWebhooksResult is what one batch left behind in its lane: whether
// deliveries are pending, and when the earliest of them may be tried (at
// once, or after a failed attempt's backoff).
type DeliverWebhooksResult struct {
	Sent          int
	Pending       bool
	NextAttemptAt time.Time
}
