// Package webhooks sends events to subscribers' HTTP endpoints: it checks
// their URLs (https only, no private addresses), signs each message the
// Standard Webhooks way and reports what the receiver answered. Durability,
// ordering and retries are the workflows' business.
package webhooks

import "time"

// Config is how webhooks are checked and retried.
type Config struct {
	// AllowInsecure permits http:// URLs to loopback hosts and lifts the
	// private-address checks. For local development (and tests) only.
	AllowInsecure bool
	// Retry is how deliveries are retried; the zero value means DefaultRetry.
	Retry Retry
}

// Retry is how a failed delivery is retried: with exponential backoff from
// InitialInterval, doubling up to MaximumInterval, until Window has passed
// since its first attempt.
type Retry struct {
	InitialInterval time.Duration
	MaximumInterval time.Duration
	Window          time.Duration
}

// DefaultRetry retries for three days, at most an hour apart.
var DefaultRetry = Retry{InitialInterval: 10 * time.Second, MaximumInterval: time.Hour, Window: 72 * time.Hour}

// Backoff is how long to wait after a delivery's attempt-th failed attempt
// (from 1): InitialInterval, doubling with each attempt, at most
// MaximumInterval.
func (r Retry) Backoff(attempt int) time.Duration {
	wait := r.InitialInterval
	for range attempt - 1 {
		if wait >= r.MaximumInterval/2 {
			return r.MaximumInterval
		}
		wait *= 2
	}
	return min(wait, r.MaximumInterval)
}

// RetryPolicy is the configured retry, or DefaultRetry.
func (c Config) RetryPolicy() Retry {
	if c.Retry == (Retry{}) {
		return DefaultRetry
	}
	return c.Retry
}
