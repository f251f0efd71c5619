package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// lateDunning names the change that counts the retries of an invoice
// billed late from the day its dunning began (flow.DunningInput.Began)
// rather than from its due date: a back-dated contract's periods, or those
// a run missed, had every retry in the past, made back to back within a
// second, and the schedule was in arrears on the dunning's first day. Only
// a dunning started since has Began, so no recorded history takes the new
// path; the version keeps the rule that every command change is gated, and
// a dunning that a worker of the release before ran (which ignores Began)
// replays as it ran. Not the other way round: a worker of the release
// before cannot replay a late dunning this one ran (README, "Payment
// schedules and billing").
const lateDunning = "late-dunning"

// DunningWorkflow retries a failed collection domain.DunningDays after the
// invoice's due date, or after the day its dunning began if it was billed
// late (planStart), until a retry succeeds or the invoice no longer needs
// collecting (paid, or the schedule was cancelled). When every retry fails,
// the schedule is marked in arrears. A dunning a restart of the schedule
// resumes (in.Resume) follows its own plan (dunningPlan); and a retry that
// found nothing to collect takes up the latest resume it was sent, if one
// names that attempt or a later one, rather than end: the schedule was
// restarted as the retry read it Terminated.
func DunningWorkflow(ctx workflow.Context, in flow.DunningInput) error {
	clock := onTestClock(in.TestClockID, time.Time{})
	if err := clock.listen(ctx); err != nil {
		return err
	}
	resumes := workflow.GetSignalChannel(ctx, flow.DunningResumeSignal)
	start := planStart(ctx, in)
	plan := dunningPlan(start, in.Resume)
	for len(plan) > 0 {
		retry := plan[0]
		plan = plan[1:]
		if err := clock.sleepUntil(ctx, retry.at); err != nil {
			return err
		}
		outcome, err := collect(ctx, in.InvoiceRef, retry.attempt)
		if err != nil {
			return err
		}
		if outcome == domain.CollectionSkipped {
			if resume := latestResume(resumes, retry.attempt); resume != nil {
				plan = dunningPlan(start, resume)
				continue
			}
		}
		if outcome.EndsDunning() {
			return nil
		}
	}
	var a *activities.Billing
	return workflow.ExecuteLocalActivity(withDatabaseStep(ctx), a.MarkInArrears, in.InvoiceRef).Get(ctx, nil)
}

// planStart is the day the dunning's retries are counted from: the
// invoice's due date or, for an invoice billed late, the day its dunning
// began (flow.DunningInput.PlanStart), in dunnings recorded since
// lateDunning. An invoice collected on its due date asks no version.
func planStart(ctx workflow.Context, in flow.DunningInput) domain.Date {
	start := in.PlanStart()
	if start.After(in.DueDate) && workflow.GetVersion(ctx, lateDunning, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return in.DueDate
	}
	return start
}

// dunningRetry is an attempt a dunning makes and when.
type dunningRetry struct {
	attempt int
	at      time.Time
}

// dunningPlan is when a dunning tries an invoice again: retry n
// domain.DunningDays[n-1] days after start (planStart). A dunning that a
// restart of the schedule resumes (resume) makes its retries from
// resume.Attempt on, the first on its own day or, if that has passed, on
// the restart's day, and each after it as many days later as the plan
// spaces them: a retry skipped while the schedule was Terminated is made at
// once, and the invoice goes to arrears only once every retry has been
// tried. An invoice whose retries had all been made (in arrears) gets one
// more attempt, on the restart's day: the business restarts the schedule
// to collect what is owed.
func dunningPlan(start domain.Date, resume *flow.DunningResume) []dunningRetry {
	first, anchor := 1, start
	if resume != nil {
		first = resume.Attempt
		if first > len(domain.DunningDays) {
			return []dunningRetry{{attempt: first, at: resume.On.Time()}}
		}
		// The plan moves by however late its next retry now comes.
		if due := start.AddDays(domain.DunningDays[first-1]); resume.On.After(due) {
			anchor = resume.On.AddDays(-domain.DunningDays[first-1])
		}
	}
	var plan []dunningRetry
	for n := first; n <= len(domain.DunningDays); n++ {
		plan = append(plan, dunningRetry{attempt: n, at: anchor.AddDays(domain.DunningDays[n-1]).Time()})
	}
	return plan
}

// latestResume is the latest resume the dunning was sent (flow.Client.
// ResumeDunning) that names attempt, the one it skipped, or a later one;
// nil when there is none. One that names an earlier attempt was sent before
// the attempts since were made: resuming from it would charge an attempt
// number again, under keys its recorded attempt used.
func latestResume(resumes workflow.ReceiveChannel, attempt int) *flow.DunningResume {
	var latest *flow.DunningResume
	for {
		var r flow.DunningResume
		if !resumes.ReceiveAsync(&r) {
			return latest
		}
		if r.Attempt >= attempt {
			latest = &r
		}
	}
}
