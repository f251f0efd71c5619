package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// termStepTimeout bounds one attempt at a term step that talks to Temporal:
// starting term workflows, or opening a renewal and waiting for its first
// answer.
const termStepTimeout = 2 * time.Minute

// withTermStep runs such a step as an activity, retried with backoff.
func withTermStep(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: termStepTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// ContractTermWorkflow carries out the end of one term of one contract. Its
// id names the contract and the term's end, and is never reused, so each
// term ends once however often a sweep finds it. It opens the renewal of an
// auto-renewing contract when the notice date comes (it is started then)
// and tries again daily (see openUntil), sleeps on a durable timer until
// the end, tries once more then (its terms may have become AUTO_RENEW),
// and ends the term: the contract expires unless an accepted renewal
// applies on the date. A term end that passed while the service was down
// is carried out when the timer fires late, with the date it should have
// had.
func ContractTermWorkflow(ctx workflow.Context, in flow.TermInput) (flow.TermEnded, error) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Contract: %s\nTerm ends: %s\nRenewal notice: %d days", in.ContractID, in.End, in.NoticeDays))
	clock := onTestClock(in.TestClockID, in.FoundAt)
	if err := clock.listen(ctx); err != nil {
		return flow.TermEnded{}, err
	}
	// Days are on the business clock, read when the term was found; the
	// timers run from the workflow's start. A test clock's days are its own.
	started := workflow.GetInfo(ctx).WorkflowStartTime
	at := func(day domain.Date) time.Time { return started.Add(day.Time().Sub(in.FoundAt)) }
	if in.TestClockID != "" {
		at = domain.Date.Time
	}
	if in.NoticeDays > 0 {
		if err := clock.sleepUntil(ctx, at(in.End.AddDays(-in.NoticeDays))); err != nil {
			return flow.TermEnded{}, err
		}
		if err := openUntil(ctx, clock, in, at(in.End)); err != nil {
			return flow.TermEnded{}, err
		}
	}
	if err := clock.sleepUntil(ctx, at(in.End)); err != nil {
		return flow.TermEnded{}, err
	}
	last, err := openRenewal(ctx, in)
	if err != nil {
		return flow.TermEnded{}, err
	}
	end := in
	if last.Refused {
		// The contract expires saying why it did not renew.
		end.RenewalRefused = last.Reason
	}
	var t *activities.Terms
	var ended flow.TermEnded
	if err := workflow.ExecuteLocalActivity(withDatabaseStep(ctx), t.EndTerm, end).Get(ctx, &ended); err != nil {
		return ended, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Contract: %s\nTerm ended: %s\nOutcome: %s", in.ContractID, in.End, ended.Outcome))
	if ended.Rebased {
		var a *activities.Amendments
		if err := workflow.ExecuteActivity(withTermStep(ctx), a.NotifyTimeline, flow.TimelineInput{TenantID: in.TenantID, ContractID: in.ContractID}).Get(ctx, nil); err != nil {
			return ended, err
		}
	}
	if ended.Outcome == domain.TermExpired {
		return ended, nil
	}
	// A renewal applied already (late, on opening) may have started a term
	// whose notice date has passed too: a contract created years back
	// renews term after term at once instead of one a day.
	var page flow.TermsPage
	return ended, workflow.ExecuteActivity(withTermStep(ctx), t.WatchTerms, flow.TermsSweepInput{
		TenantID: in.TenantID, ContractIDs: []string{in.ContractID}, TestClockID: in.TestClockID,
	}).Get(ctx, &page)
}

// renewalRetry is how often a term in its notice window tries to open its
// renewal again.
const renewalRetry = 24 * time.Hour

// openUntil opens the term's renewal on its notice date and tries again
// every day until end: a cancellation at the end that kept it from opening,
// or failed it, may be withdrawn, and an un-cancelled contract then gets
// its renewal, with its notice, the next day. A try finding the renewal
// open changes nothing.
func openUntil(ctx workflow.Context, clock *businessClock, in flow.TermInput, end time.Time) error {
	for {
		if _, err := openRenewal(ctx, in); err != nil || !clock.Now(ctx).Add(renewalRetry).Before(end) {
			return err
		}
		if err := clock.sleepUntil(ctx, clock.Now(ctx).Add(renewalRetry)); err != nil {
			return err
		}
	}
}

// openRenewal opens the term's renewal, if there is one to open.
func openRenewal(ctx workflow.Context, in flow.TermInput) (flow.RenewalOpened, error) {
	var t *activities.Terms
	var opened flow.RenewalOpened
	if err := workflow.ExecuteActivity(withTermStep(ctx), t.OpenRenewal, in).Get(ctx, &opened); err != nil {
		return opened, err
	}
	workflow.GetLogger(ctx).Info("renewal", "contractId", in.ContractID, "end", in.End.String(),
		"amendmentId", opened.AmendmentID, "status", opened.Status, "reason", opened.Reason)
	return opened, nil
}

// TermsSweepWorkflow starts the workflow of every contract term whose
// notice date has come, a page at a time (see activity WatchTerms); the
// Schedule flow.TermsScheduleID runs it daily, and a contract action runs
// it for the contracts it created.
func TermsSweepWorkflow(ctx workflow.Context, in flow.TermsSweepInput) (int, error) {
	var t *activities.Terms
	started := 0
	for {
		var page flow.TermsPage
		if err := workflow.ExecuteActivity(withTermStep(ctx), t.WatchTerms, in).Get(ctx, &page); err != nil {
			return started, err
		}
		started += page.Started
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Terms watched: %d", started))
		if !page.More {
			return started, nil
		}
		in.AfterRef = page.LastRef
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return started, workflow.NewContinueAsNewError(ctx, TermsSweepWorkflow, in)
		}
	}
}
