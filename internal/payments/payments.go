// Package payments is the service's side of a payment provider: the calls a
// collection makes (authorise, capture, void, refund) and a sandbox provider
// that keeps a real ledger in Postgres. Every call carries an idempotency key,
// so a retried call never moves money twice.
package payments

import (
	"context"
	"errors"
)

// Provider moves money. Repeating a call with the same idempotency key
// returns the first call's result and moves nothing more.
type Provider interface {
	// Authorise reserves an amount on a payment method.
	Authorise(ctx context.Context, idempotencyKey string, req AuthoriseRequest) (Authorisation, error)
	// Capture takes (part of) an authorised amount; it settles the authorisation.
	Capture(ctx context.Context, idempotencyKey, authorisationID string, amount int64) (Capture, error)
	// Void releases an authorisation instead of capturing it; it settles the authorisation.
	Void(ctx context.Context, idempotencyKey, authorisationID string) (Void, error)
	// Refund returns (part of) a captured amount.
	Refund(ctx context.Context, idempotencyKey, captureID string, amount int64) (Refund, error)
}

// AuthoriseRequest is an amount in minor units to reserve on a payment method.
type AuthoriseRequest struct {
	PaymentMethod string
	Amount        int64
	Currency      string
}

type Authorisation struct {
	ID       string
	Amount   int64
	Currency string
}

type Capture struct {
	ID              string
	AuthorisationID string
	Amount          int64
}

type Void struct {
	ID              string
	AuthorisationID string
}

type Refund struct {
	ID        string
	CaptureID string
	Amount    int64
}

// Code classifies a provider's refusal.
type Code string

const (
	// CodeDeclined: the payment method was refused.
	CodeDeclined Code = "PAYMENT_DECLINED"
	// CodeRejected: the request does not fit the payment's state (already
	// settled, more than is left, an idempotency key reused for another request).
	CodeRejected Code = "PAYMENT_REJECTED"
)

// Error is a refusal: the same request would be refused again, so retrying
// it is pointless.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrUnavailable is a transient failure: the same request may succeed later.
var ErrUnavailable = errors.New("the payment provider is unavailable")
