package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// billingRun is what the operator reads of POST /api/billing/run and
// GET /api/billing/runs/{id}: a 200's totals, a 202's progress link, or a
// run's progress.
type billingRun struct {
	AsOf      string   `json:"asOf"`
	Progress  string   `json:"progress"`
	Status    string   `json:"status"`
	Due       int      `json:"due"`
	Checked   int      `json:"checked"`
	Invoiced  int      `json:"invoiced"`
	Collected int      `json:"collected"`
	Declined  int      `json:"declined"`
	Failed    int      `json:"failed"`
	Skipped   int      `json:"skipped"`
	Refused   []string `json:"refused"`
}

// runBillingRun bills the tenant of the key as of a date (today, UTC, by
// default), follows a run that outlasts the API's wait with a progress bar
// on bar, and prints its totals on out: contractd billing-run [--as-of D]
// [--every 1s] [--json].
func runBillingRun(ctx context.Context, out, bar io.Writer, args []string) error {
	fs := flag.NewFlagSet("billing-run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asOf := fs.String("as-of", time.Now().UTC().Format(time.DateOnly), "bill the periods due by this date (YYYY-MM-DD)")
	every := fs.Duration("every", time.Second, "how often to read a long run's progress")
	asJSON := fs.Bool("json", false, "print the API's last answer as JSON")
	const usage = "usage: contractd billing-run [--as-of YYYY-MM-DD] [--every 1s] [--json]"
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", usage, err)
	}
	if fs.NArg() > 0 || *every <= 0 {
		return errors.New(usage + ": no arguments, and a positive --every")
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	var last json.RawMessage
	if err := c.call(ctx, "POST", "/api/billing/run", map[string]string{"asOf": *asOf}, &last); err != nil {
		return err
	}
	run, err := decodeRun(last)
	if err != nil {
		return err
	}
	if run.Progress != "" {
		if last, run, err = followRun(ctx, c, bar, run.Progress, *every); err != nil {
			return err
		}
	}
	if *asJSON {
		_, err := fmt.Fprintf(out, "%s\n", last)
		return err
	}
	return printRunTotals(out, *asOf, run)
}

func decodeRun(raw json.RawMessage) (billingRun, error) {
	var run billingRun
	if err := json.Unmarshal(raw, &run); err != nil {
		return run, fmt.Errorf("read the billing run's answer: %w", err)
	}
	return run, nil
}

// followRun reads a run's progress every so often, drawing it on bar, until
// the run ends, and returns the last answer. A run that did not complete is
// an error.
func followRun(ctx context.Context, c *apiClient, bar io.Writer, path string, every time.Duration) (json.RawMessage, billingRun, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		var raw json.RawMessage
		if err := c.call(ctx, "GET", path, nil, &raw); err != nil {
			return nil, billingRun{}, err
		}
		run, err := decodeRun(raw)
		if err != nil {
			return nil, run, err
		}
		fmt.Fprintf(bar, "\r%s", progressBar(run))
		if run.Status != "RUNNING" {
			fmt.Fprintln(bar)
			if run.Status != "COMPLETED" {
				return raw, run, fmt.Errorf("the billing run ended %s; see it in the Temporal UI", run.Status)
			}
			return raw, run, nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(bar)
			return nil, run, fmt.Errorf("stopped following the billing run (it goes on; see %s): %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// progressBarWidth is the bar's length in characters.
const progressBarWidth = 30

// progressBar draws how many of the due contracts a run has been through,
// and its totals so far.
func progressBar(r billingRun) string {
	filled := 0
	if r.Due > 0 {
		filled = min(progressBarWidth, r.Checked*progressBarWidth/r.Due)
	}
	return fmt.Sprintf("[%s%s] %d/%d contracts  invoiced %d  collected %d  declined %d  failed %d",
		strings.Repeat("#", filled), strings.Repeat(".", progressBarWidth-filled), r.Checked, r.Due,
		r.Invoiced, r.Collected, r.Declined, r.Failed)
}

func printRunTotals(out io.Writer, asOf string, r billingRun) error {
	refused := "-"
	if len(r.Refused) > 0 {
		refused = strings.Join(r.Refused, ", ")
	}
	_, err := fmt.Fprintf(out, "billing run  %s\ninvoiced     %d\ncollected    %d\ndeclined     %d\nfailed       %d\nskipped      %d\nrefused      %s\n",
		asOf, r.Invoiced, r.Collected, r.Declined, r.Failed, r.Skipped, refused)
	return err
}
