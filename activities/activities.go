// Package activities holds every side effect the workflows order: reading and
// writing Postgres (and, later, calling the payment provider). Each activity
// is idempotent, keyed by the id of the thing it writes.
package activities

import (
	"errors"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

// Activities carries the dependencies activities need.
type Activities struct {
	Store *store.Store
	// Now is the business clock; tests move it.
	Now func() time.Time
	// Payments is the payment provider: the sandbox unless a real one is wired in.
	Payments payments.Provider
	// Webhooks sends events to subscribers.
	Webhooks *webhooks.Sender
	// Temporal starts and wakes webhook delivery workflows.
	Temporal client.Client
}

// New builds the activities with the wall clock, the sandbox payment provider
// and a webhook sender that refuses insecure URLs. Temporal is left to set.
func New(s *store.Store) *Activities {
	return &Activities{Store: s, Now: time.Now, Payments: payments.NewSandbox(s.DB()), Webhooks: webhooks.NewSender(webhooks.Config{})}
}

// businessError turns a domain refusal into a non-retryable application error
// whose type is the domain kind, so callers of the workflow can map it back.
// Other errors are returned unchanged and retried.
func businessError(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return temporal.NewNonRetryableApplicationError(de.Error(), string(de.Kind), nil, de.Fault)
	}
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		return temporal.NewNonRetryableApplicationError(ve.Error(), string(domain.KindInvalid), nil)
	}
	return err
}
