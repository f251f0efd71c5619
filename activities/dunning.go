package activities

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Dunning starts the dunning of a billing run's declined invoices, and
// resumes that of the unpaid invoices of a restarted schedule.
type Dunning struct {
	store    *store.Store
	temporal *flow.Client
}

// NewDunning builds the dunning activities on s (for test clocks) and a
// Temporal client.
func NewDunning(s *store.Store, temporal *flow.Client) *Dunning {
	return &Dunning{store: s, temporal: temporal}
}

// dunningStarts bounds the dunning workflows one activity starts at once.
const dunningStarts = 8

// StartDunning starts the DunningWorkflow of each invoice, each delayed
// until its first retry: a day after its due date, or after the day its
// dunning began if it was billed late (in.Began). The delay is from the
// wall clock, as the dunning's own wait is (invoices on a test clock are
// dunned by child workflows instead). Safe to repeat: a dunning already
// started is left as it is.
func (d *Dunning) StartDunning(ctx context.Context, in flow.StartDunningInput) error {
	if d.temporal == nil {
		return errNoTemporal
	}
	now := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dunningStarts)
	for i := range in.Invoices {
		g.Go(func() error { return d.temporal.StartDunning(gctx, in.Dunning(i), now) })
	}
	return g.Wait()
}

// ResumeDunning resumes the dunning of each invoice a restart of its
// schedule found unpaid (flow.Client.ResumeDunning). An invoice on a test
// clock holds the clock first, as one a billing run declines does, so that
// the clock's advance waits for its dunning. Safe to repeat: a dunning
// running is joined, and one that ran already repeats attempts keyed by
// their invoice and number, which charge and record nothing twice.
func (d *Dunning) ResumeDunning(ctx context.Context, dunning []flow.DunningInput) error {
	if d.temporal == nil {
		return errNoTemporal
	}
	for _, in := range dunning {
		if in.TestClockID != "" {
			if err := d.store.HoldClock(ctx, in.TestClockID, flow.DunningWorkflowID(in.InvoiceRef)); err != nil {
				return err
			}
		}
		if err := d.temporal.ResumeDunning(ctx, in); err != nil {
			return err
		}
	}
	return nil
}
