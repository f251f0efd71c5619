package activities

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/contractd/contractd/internal/flow"
)

// Dunning starts the dunning of a billing run's declined invoices.
type Dunning struct {
	temporal *flow.Client
}

// NewDunning builds the dunning activities on a Temporal client.
func NewDunning(temporal *flow.Client) *Dunning { return &Dunning{temporal: temporal} }

// dunningStarts bounds the dunning workflows one activity starts at once.
const dunningStarts = 8

// StartDunning starts the DunningWorkflow of each invoice, each delayed
// until its first retry. The delay is from the wall clock, as the dunning's
// own wait is (invoices on a test clock are dunned by child workflows
// instead). Safe to repeat: a dunning already started is left as it is.
func (d *Dunning) StartDunning(ctx context.Context, in flow.StartDunningInput) error {
	if d.temporal == nil {
		return errNoTemporal
	}
	now := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dunningStarts)
	for _, inv := range in.Invoices {
		g.Go(func() error { return d.temporal.StartDunning(gctx, inv, now) })
	}
	return g.Wait()
}
