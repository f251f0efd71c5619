package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/internal/store"
)

// Collections makes invoices' collection attempts a batch at a time: a
// billing run's page of invoices in one activity, and a dunning retry as a
// batch of one. Batching is what lets a run collect hundreds of invoices a
// second: one Temporal round trip and one transaction a page instead of
// four steps an invoice. Each invoice keeps its own idempotency: the
// provider's keys name the invoice and the attempt, and an attempt is
// recorded once, so a batch retried after a crash charges and records
// nothing twice.
type Collections struct {
	database
	provider payments.Provider
}

// NewCollections builds the collection activities on s, the business clock
// now and the payment provider.
func NewCollections(s *store.Store, now func() time.Time, provider payments.Provider) *Collections {
	return &Collections{database: database{store: s, clock: now}, provider: provider}
}

const (
	// collectionConcurrency bounds the charges a batch has in flight.
	collectionConcurrency = 16
	// CollectionHeartbeat is how often a batch tells Temporal it is alive,
	// so that a batch on a worker that died is retried soon.
	CollectionHeartbeat = 5 * time.Second
)

// chargeRetry retries an authorisation or a capture while the provider does
// not answer, for about 15 s, as the workflows' provider calls did; a void
// must happen, so it retries until the batch's time runs out.
var chargeRetry = payments.ChargeRetry{
	Call: payments.Retry{Attempts: 6, Initial: 500 * time.Millisecond, Max: 30 * time.Second},
	Void: payments.Retry{Initial: 500 * time.Millisecond, Max: time.Minute},
}

// CollectInvoices makes collection attempt number in.Attempt on each
// invoice to collect (see batchPlans) and records how each ended in one
// transaction, and when, on the invoices' clock; an invoice not to collect
// is skipped. A
// declined payment method or a provider that never answered is an outcome,
// for dunning to retry; only what must be retried as a whole (the database,
// a void that did not happen) is an error.
func (a *Collections) CollectInvoices(ctx context.Context, in flow.CollectInvoicesInput) (flow.CollectedInvoices, error) {
	plans, err := a.batchPlans(ctx, in)
	if err != nil {
		return flow.CollectedInvoices{}, err
	}
	at, err := a.runTime(ctx, in.TestClockID)
	if err != nil {
		return flow.CollectedInvoices{}, err
	}
	stop := heartbeat(ctx, plans)
	defer stop()
	attempts := make([]*store.InvoiceCollection, len(in.Invoices))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(collectionConcurrency)
	for i, inv := range in.Invoices {
		plan, ok := plans[inv.InvoiceID]
		if !ok {
			continue
		}
		g.Go(func() error {
			attempt, err := a.charge(gctx, inv, in.Attempt, plan, at)
			attempts[i] = &attempt
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return flow.CollectedInvoices{}, err
	}
	out, err := a.record(ctx, in, attempts)
	out.At = at
	return out, err
}

// batchPlans are the charges the batch makes, by invoice id: those
// collectionPlan chooses on its first try. A retried batch makes the same
// ones, whatever changed in between (a contract cancelled, an invoice paid
// by the crashed try itself): that try may have taken the money, and only
// the same charge, repeated with its keys, finds out and gets it recorded.
// The plans travel in the attempt's heartbeat details, the first of which is
// sent before any charge is made.
func (a *Collections) batchPlans(ctx context.Context, in flow.CollectInvoicesInput) (map[string]flow.CollectionPlan, error) {
	plans := map[string]flow.CollectionPlan{}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &plans); err != nil {
			return nil, fmt.Errorf("read the first try's collection plans: %w", err)
		}
		return plans, nil
	}
	ids := make([]string, len(in.Invoices))
	for i, inv := range in.Invoices {
		ids[i] = inv.InvoiceID
	}
	targets, err := a.store.CollectionTargets(ctx, in.TenantID, ids)
	if err != nil {
		return nil, err
	}
	for _, inv := range in.Invoices {
		t, ok := targets[inv.InvoiceID]
		if !ok {
			return nil, businessError(domain.Errorf(domain.KindNotFound, "", "invoice %s does not exist", inv.InvoiceID))
		}
		if plan := collectionPlan(t); plan.Collect {
			plans[inv.InvoiceID] = plan
		}
	}
	// Not batched: the SDK sends an activity's first heartbeat at once.
	activity.RecordHeartbeat(ctx, plans)
	return plans, nil
}

// charge makes one invoice's attempt and says how it ended.
func (a *Collections) charge(ctx context.Context, inv flow.InvoiceRef, attempt int, plan flow.CollectionPlan, at time.Time) (store.InvoiceCollection, error) {
	out := store.InvoiceCollection{InvoiceID: inv.InvoiceID, CollectionAttempt: store.CollectionAttempt{Attempt: attempt, At: at}}
	capture, err := payments.Charge(ctx, a.provider, flow.CollectionKey(inv, attempt), payments.AuthoriseRequest{
		PaymentMethod: plan.PaymentMethod, Amount: plan.Amount, Currency: plan.Currency,
	}, chargeRetry)
	var refusal *payments.Error
	switch {
	case err == nil:
		out.Outcome, out.PaymentID, out.Amount = domain.CollectionSucceeded, &capture.ID, &plan.Amount
	case errors.As(err, &refusal) && refusal.Code == payments.CodeDeclined:
		out.Outcome, out.Reason = domain.CollectionDeclined, &refusal.Message
	case errors.As(err, &refusal):
		// The provider refused the request itself, as it does a capture of
		// an authorisation a crashed try of this batch already voided:
		// nothing was taken, and dunning tries again.
		out.Outcome, out.Reason = domain.CollectionFailed, &refusal.Message
	case ctx.Err() != nil || errors.Is(err, payments.ErrUnsettled):
		// Stopped, or an authorisation is left open: the batch is retried.
		return out, err
	default:
		// The provider did not answer through every retry.
		reason := "the payment provider did not answer"
		out.Outcome, out.Reason = domain.CollectionFailed, &reason
	}
	return out, nil
}

// record stores the batch's attempts and returns their outcomes. An invoice
// on a test clock whose first attempt did not end its collection is about
// to be dunned, so the clock's advance is told to wait for its dunning.
// An attempt a first try finds recorded already was another run's (two runs
// as of different days collecting one invoice at once, the provider
// answering both with the one charge): it is marked repeated, for the run's
// totals to count once (see flow.CollectedInvoices.Counted). A retried try
// may find its own crashed try's record, and marks nothing.
func (a *Collections) record(ctx context.Context, in flow.CollectInvoicesInput, attempts []*store.InvoiceCollection) (flow.CollectedInvoices, error) {
	out := flow.CollectedInvoices{Outcomes: make([]domain.CollectionOutcome, len(attempts))}
	var batch []store.InvoiceCollection
	for i, c := range attempts {
		if c == nil {
			out.Outcomes[i] = domain.CollectionSkipped
			continue
		}
		out.Outcomes[i] = c.Outcome
		batch = append(batch, *c)
		if in.TestClockID != "" && in.Attempt == 0 && !c.Outcome.EndsDunning() {
			if err := a.store.HoldClock(ctx, in.TestClockID, flow.DunningWorkflowID(in.Invoices[i])); err != nil {
				return flow.CollectedInvoices{}, err
			}
		}
	}
	recorded, err := a.store.RecordCollectionAttempts(ctx, in.TenantID, batch)
	if err != nil {
		return flow.CollectedInvoices{}, err
	}
	if activity.GetInfo(ctx).Attempt == 1 {
		for i, c := range attempts {
			if c != nil && !recorded[c.InvoiceID] {
				if out.Repeated == nil {
					out.Repeated = make([]bool, len(attempts))
				}
				out.Repeated[i] = true
			}
		}
	}
	return out, nil
}

// heartbeat tells Temporal the activity is alive until stop is called,
// each time with details (a heartbeat's details replace the last one's).
func heartbeat(ctx context.Context, details any) (stop func()) {
	stopped := make(chan struct{})
	go func() {
		ticker := time.NewTicker(CollectionHeartbeat)
		defer ticker.Stop()
		for {
			select {
			case <-stopped:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
				activity.RecordHeartbeat(ctx, details)
			}
		}
	}()
	return func() { close(stopped) }
}
