// Package activities holds every side effect the workflows order: reading and
// writing Postgres, calling the payment provider, sending webhooks. Each
// activity is idempotent, keyed by the id of the thing it writes. They come in
// groups by concern (Amendments, Contracts, Schedules, Billing, Collections, Payments,
// Webhooks, Terms, Clocks), each built complete by its constructor; an activity's type name
// is its method's name, unique across the groups, as recorded histories hold.
package activities

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/webhooks"
)

// Deps are what the activities need; build them once per process.
type Deps struct {
	Store *store.Store
	// Now is the business clock; tests move it. Defaults to time.Now.
	Now func() time.Time
	// Payments is the payment provider; defaults to the sandbox.
	Payments payments.Provider
	// Webhooks sends events to subscribers; defaults to a sender that
	// refuses insecure URLs.
	Webhooks *webhooks.Sender
	// Temporal starts and wakes webhook lane workflows, and tells
	// amendment workflows that their contract's timeline changed them.
	Temporal *flow.Client
}

// Groups are every activity group, as a worker registers them.
type Groups struct {
	Amendments  *Amendments
	Contracts   *Contracts
	Schedules   *Schedules
	Billing     *Billing
	Collections *Collections
	Dunning     *Dunning
	Payments    *Payments
	Webhooks    *Webhooks
	Terms       *Terms
	Clocks      *Clocks
}

// New builds every group from d.
func New(d Deps) Groups {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Payments == nil {
		d.Payments = payments.NewSandbox(d.Store.DB())
	}
	if d.Webhooks == nil {
		d.Webhooks = webhooks.NewSender(webhooks.Config{})
	}
	return Groups{
		Amendments:  NewAmendments(d.Store, d.Now, d.Temporal),
		Contracts:   NewContracts(d.Store, d.Now),
		Schedules:   NewSchedules(d.Store, d.Now),
		Billing:     NewBilling(d.Store, d.Now),
		Collections: NewCollections(d.Store, d.Now, d.Payments),
		Dunning:     NewDunning(d.Store, d.Temporal),
		Payments:    NewPayments(d.Payments),
		Webhooks:    NewWebhooks(d.Store, d.Webhooks, d.Temporal),
		Terms:       NewTerms(d.Store, d.Now, d.Temporal),
		Clocks:      NewClocks(d.Store, d.Now, d.Temporal),
	}
}

// All lists the groups, for registering each on a worker.
func (g Groups) All() []any {
	return []any{g.Amendments, g.Contracts, g.Schedules, g.Billing, g.Collections, g.Dunning, g.Payments, g.Webhooks, g.Terms, g.Clocks}
}

// database is what the groups that only read and write Postgres hold: the
// store and the business clock.
type database struct {
	store *store.Store
	clock clock
}

// clock is the business clock.
type clock func() time.Time

// now is the business clock at database precision, so what is stored and
// what is returned agree.
func (c clock) now() time.Time {
	return c().UTC().Truncate(time.Microsecond)
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
