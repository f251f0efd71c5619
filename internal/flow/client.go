package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
)

// Client is how everything outside a workflow (the API, activities, the
// process that prepares a namespace) starts workflows and talks to them: by
// the names and ids this package defines, with the payloads it defines.
type Client struct {
	c         client.Client
	taskQueue string
	key       UpdateKey
}

// NewClient starts workflows on taskQueue (DefaultTaskQueue when empty) and
// signs the Updates it sends with key, which the workers verify.
func NewClient(c client.Client, taskQueue string, key UpdateKey) *Client {
	if taskQueue == "" {
		taskQueue = DefaultTaskQueue
	}
	return &Client{c: c, taskQueue: taskQueue, key: key}
}

// CheckHealth reports whether Temporal's frontend answers.
func (f *Client) CheckHealth(ctx context.Context) error {
	_, err := f.c.CheckHealth(ctx, nil)
	return err
}

// StartAmendment hands a validated change to its amendment workflow with
// Update-with-Start and returns the workflow's answer: a repeat with the same
// workflow id joins the running one. summary is what an operator reads first
// in the Temporal UI's workflow list. It waits for the answer at most wait
// (see ErrAnswerPending).
func (f *Client) StartAmendment(ctx context.Context, in OpenAmendmentInput, summary string, wait time.Duration) (Outcome, error) {
	in.ApplyImmediately = true // every worker of this code applies on open
	opts := f.amendmentStart(in, summary)
	start := f.c.NewWithStartWorkflowOperation(opts, AmendmentWorkflow, in)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	signed := f.sign(waitCtx, in.WorkflowID, UpdateOutcome, in.ActorID, in.RequestHash)
	handle, err := f.c.UpdateWithStartWorkflow(signed, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions:          outcomeUpdate(in.RequestHash),
	})
	out, err := outcomeOf(signed, handle, err)
	out, err = f.keepWaiting(ctx, waitCtx, in.WorkflowID, in.RequestHash, in.ActorID, out, err)
	if errors.Is(err, errNotShown) && in.IdempotencyKey == "" {
		// Without a key a retry would be another change: make sure of this
		// one. With one, a retry joins it, so the wait's error can stand (and
		// only an Update checks that the key comes with the same body).
		return out, f.startAfterWait(ctx, opts, in, err)
	}
	return out, err
}

// amendmentStart is how an amendment's workflow is started.
func (f *Client) amendmentStart(in OpenAmendmentInput, summary string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       in.WorkflowID,
		TaskQueue:                f.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			TenantIDKey.ValueSet(in.TenantID),
			ContractIDKey.ValueSet(in.ContractID),
			AmendmentActionKey.ValueSet(string(in.Change.Action)),
			AmendmentStatusKey.ValueSet(domain.StatusPending),
		),
	}
}

// AmendmentOutcome waits, at most wait, for the answer of an amendment
// workflow already started with requestHash (a request repeated with its
// Idempotency-Key).
func (f *Client) AmendmentOutcome(ctx context.Context, workflowID, requestHash, actorID string, wait time.Duration) (Outcome, error) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	out, err := f.askOutcome(waitCtx, workflowID, requestHash, actorID)
	return f.keepWaiting(ctx, waitCtx, workflowID, requestHash, actorID, out, err)
}

// sign signs the Update about to be sent with ctx, so that the workflow's
// validator accepts it (see UpdateKey). The wall clock, not the business
// clock: the workflow checks the expiry against Temporal's time.
func (f *Client) sign(ctx context.Context, workflowID, update, actorID string, arg any) context.Context {
	return WithUpdateGrant(ctx, f.key.Grant(workflowID, update, actorID, arg, time.Now()))
}

func outcomeOf(ctx context.Context, handle client.WorkflowUpdateHandle, err error) (Outcome, error) {
	var out Outcome
	if err == nil {
		err = handle.Get(ctx, &out)
	}
	return out, err
}

// CreateContracts runs a contract-actions request's workflow, or joins the
// one its action id already runs, and returns what it created if the
// workflow ends within wait; done is false when it is still running then.
// Unbounded, a workflow that could not complete (its result over Temporal's
// payload limit, its contracts committed) held the request until the
// client gave up, with no answer to act on.
func (f *Client) CreateContracts(ctx context.Context, in CreateContractsInput, summary string, wait time.Duration) (action ContractAction, done bool, err error) {
	run, err := f.start(ctx, client.StartWorkflowOptions{
		ID:                       ContractActionWorkflowID(in.TenantID, in.ActionID),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:            summary,
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID)),
	}, ContractActionWorkflow, in, "start contract action")
	if err != nil {
		return action, false, err
	}
	done, err = getWithin(ctx, run, &action, wait)
	return action, done, err
}

// ChangeSchedule runs a DDCMS schedule change's workflow, or joins the one
// its change id already ran (running, or ended well: a failed one is run
// again), and reports whether it ended within wait; done is false when it
// is still running then. Unbounded, a change no worker took (an overloaded
// one) held its request until the client gave up, told nothing. The
// workflow's own failure is returned as it is, for the caller to classify.
func (f *Client) ChangeSchedule(ctx context.Context, in ScheduleChangeInput, wait time.Duration) (done bool, err error) {
	run, err := f.start(ctx, client.StartWorkflowOptions{
		ID:                       ScheduleChangeWorkflowID(in.TenantID, in.ChangeID),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			TenantIDKey.ValueSet(in.TenantID), ContractIDKey.ValueSet(in.ContractID)),
	}, ScheduleChangeWorkflow, in, "")
	if err != nil {
		return false, err
	}
	return getWithin(ctx, run, nil, wait)
}

// RunBilling runs a tenant's billing as of a date, or joins the run for that
// date already under way, and returns what it did if the run ends within
// wait; done is false when it is still running then.
func (f *Client) RunBilling(ctx context.Context, in BillingRunInput, wait time.Duration) (totals BillingTotals, done bool, err error) {
	run, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       BillingRunWorkflowID(in.TenantID, in.AsOf),
		TaskQueue:                f.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Billing as of " + in.AsOf.String(),
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID)),
	}, BillingRunWorkflow, in)
	if err != nil {
		return totals, false, fmt.Errorf("start billing run: %w", err)
	}
	done, err = getWithin(ctx, run, &totals, wait)
	return totals, done, err
}

// getWithin waits at most wait for run's result into out; done is false,
// with no error, when the wait ran out first: the workflow goes on without
// the caller.
func getWithin(ctx context.Context, run client.WorkflowRun, out any, wait time.Duration) (done bool, err error) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err = run.Get(waitCtx, out)
	if err != nil && ctx.Err() == nil && waitEnded(waitCtx, err) {
		return false, nil
	}
	return err == nil, err
}

// waitEnded tells whether waiting for a result stopped because the wait ran
// out. The server ends its long poll at the wait's deadline, and its
// answer (Canceled or DeadlineExceeded) can come a moment before the
// client's own timer has fired.
func waitEnded(waitCtx context.Context, err error) bool {
	var canceled *serviceerror.Canceled
	var deadline *serviceerror.DeadlineExceeded
	return waitCtx.Err() != nil || errors.As(err, &canceled) || errors.As(err, &deadline)
}

// BillingRun describes a tenant's latest run as of a date, running or
// ended, with its progress; ErrBillingRunNotFound when there is none.
func (f *Client) BillingRun(ctx context.Context, tenantID string, asOf domain.Date) (BillingRun, error) {
	id := BillingRunWorkflowID(tenantID, asOf)
	desc, err := f.c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return BillingRun{}, ErrBillingRunNotFound
	}
	if err != nil {
		return BillingRun{}, fmt.Errorf("describe billing run %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	// The enum's own name (WORKFLOW_EXECUTION_STATUS_RUNNING), not its
	// String(), which reads "Running".
	status := enumspb.WorkflowExecutionStatus_name[int32(info.GetStatus())]
	run := BillingRun{Status: strings.TrimPrefix(status, "WORKFLOW_EXECUTION_STATUS_")}
	if info.GetCloseTime() != nil {
		closed := info.GetCloseTime().AsTime()
		run.FinishedAt = &closed
	}
	run.AsOf = asOf
	// A closed run answers too: Temporal replays it on a worker. When no
	// worker can answer (none polling, one too old to know the query, a run
	// that failed before its first task), the run is still shown as
	// Temporal describes it, without its progress, rather than as an error.
	qctx, cancel := context.WithTimeout(ctx, billingQueryWait)
	defer cancel()
	value, err := f.c.QueryWorkflow(qctx, id, info.GetExecution().GetRunId(), BillingProgressQuery)
	if err == nil {
		err = value.Get(&run.BillingRunState)
	}
	if err != nil && ctx.Err() != nil {
		return BillingRun{}, fmt.Errorf("query billing run %s: %w", id, err)
	}
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		// A completed run's state is its result, stored by Temporal: it
		// needs no worker to replay the run, which may not answer in time
		// (a long history, a worker restarted after a crash, a busy machine).
		// A run that ended before its result held its progress has totals
		// alone, and its progress is the query's, if it answered.
		var final BillingRunState
		if err := f.c.GetWorkflow(ctx, id, info.GetExecution().GetRunId()).Get(ctx, &final); err != nil {
			return BillingRun{}, fmt.Errorf("read billing run %s's result: %w", id, err)
		}
		run.BillingTotals = final.BillingTotals
		if !final.StartedAt.IsZero() {
			run.BillingRunProgress = final.BillingRunProgress
		}
		run.AsOf = asOf
	}
	return run, nil
}

// billingQueryWait bounds how long BillingRun waits for a worker to answer
// the progress query, so a reader is not held while no worker polls.
const billingQueryWait = 5 * time.Second

// ErrBillingRunNotFound is BillingRun's answer for a run that does not exist.
var ErrBillingRunNotFound = errors.New("no such billing run")

// start starts workflow on the task queue, or joins the run opts let it
// join. A failure to start is wrapped with starting.
func (f *Client) start(ctx context.Context, opts client.StartWorkflowOptions, workflow string, in any, starting string) (client.WorkflowRun, error) {
	opts.TaskQueue = f.taskQueue
	run, err := f.c.ExecuteWorkflow(ctx, opts, workflow, in)
	if err != nil && starting != "" {
		return nil, fmt.Errorf("%s: %w", starting, err)
	}
	return run, err
}

// EnsureWebhookDispatch starts the tenant's webhook dispatcher unless it runs.
func (f *Client) EnsureWebhookDispatch(ctx context.Context, in WebhookDispatchInput) error {
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       WebhookDispatchWorkflowID(in.TenantID),
		TaskQueue:                f.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID)),
	}, WebhookDispatchWorkflow, in)
	if err != nil {
		return fmt.Errorf("start webhook dispatch: %w", err)
	}
	return nil
}

// WakeWebhookQueue (for dispatchers from before lanes) tells a queue's
// delivery workflow to look for pending deliveries, starting it if it is
// not running. Signal-with-start is atomic:
// a workflow that is just finishing either sees the signal or is started anew.
func (f *Client) WakeWebhookQueue(ctx context.Context, in WebhookDeliveryInput) error {
	id := WebhookDeliveryWorkflowID(in.Queue)
	if _, err := f.c.SignalWithStartWorkflow(ctx, id, WebhookWakeSignal, nil,
		client.StartWorkflowOptions{TaskQueue: f.taskQueue}, WebhookDeliveryWorkflow, in); err != nil {
		return fmt.Errorf("wake %s: %w", id, err)
	}
	return nil
}

// WakeWebhookLane tells a lane's workflow to look for due deliveries,
// starting it if it is not running; atomic, as WakeWebhookQueue.
func (f *Client) WakeWebhookLane(ctx context.Context, in WebhookLaneInput) error {
	id := WebhookLaneWorkflowID(in.Lane)
	if _, err := f.c.SignalWithStartWorkflow(ctx, id, WebhookWakeSignal, nil, client.StartWorkflowOptions{
		TaskQueue:             f.taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.Lane.TenantID)),
	}, WebhookLaneWorkflow, in); err != nil {
		return fmt.Errorf("wake %s: %w", id, err)
	}
	return nil
}

// EnsureBillingSchedule creates the Temporal Schedule that starts
// DailyBillingWorkflow at 00:30 UTC, unless it exists. A day whose run starts
// while the previous one still runs waits for it instead of being dropped.
func (f *Client) EnsureBillingSchedule(ctx context.Context) error {
	_, err := f.c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: BillingScheduleID,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Minute: []client.ScheduleRange{{Start: 30}}, Comment: "daily at 00:30 UTC",
		}}},
		Action:  &client.ScheduleWorkflowAction{ID: BillingScheduleID, Workflow: DailyBillingWorkflow, TaskQueue: f.taskQueue},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create billing schedule: %w", err)
	}
	return nil
}

// TellTimelineChanged tells an amendment's workflow that its contract's
// timeline changed it, and returns once the workflow has taken note. It
// reports false when the workflow has ended.
func (f *Client) TellTimelineChanged(ctx context.Context, workflowID string) (bool, error) {
	_, err := f.c.UpdateWorkflow(f.sign(ctx, workflowID, UpdateTimelineChanged, "", nil), client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: UpdateTimelineChanged, WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err == nil {
		return true, nil
	}
	// Refused because the workflow ended (or is ending): nothing is left to tell.
	desc, descErr := f.c.DescribeWorkflowExecution(ctx, workflowID, "")
	var gone *serviceerror.NotFound
	if errors.As(descErr, &gone) || descErr == nil && desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, nil
	}
	return false, fmt.Errorf("tell %s its timeline changed: %w", workflowID, err)
}

// StartContractTerm starts the workflow of a contract's term unless one was
// started for it before, running or not; it reports whether it started one.
func (f *Client) StartContractTerm(ctx context.Context, in TermInput) (bool, error) {
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    ContractTermWorkflowID(in.TenantID, in.ContractID, in.End),
		TaskQueue:             f.taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         "Term of contract " + in.ContractID + " ending " + in.End.String(),
		TypedSearchAttributes: temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID), ContractIDKey.ValueSet(in.ContractID)),
	}, ContractTermWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start the term workflow of contract %s: %w", in.ContractID, err)
	}
	return true, nil
}

// EnsureTermsSchedule creates the Temporal Schedule that starts
// TermsSweepWorkflow at 00:05 UTC, before the day's billing, unless it
// exists. A sweep missed while Temporal was down runs when it is back (the
// schedule's catch-up window), and a sweep finds every term whose notice
// date has passed, however long ago.
func (f *Client) EnsureTermsSchedule(ctx context.Context) error {
	_, err := f.c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: TermsScheduleID,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Minute: []client.ScheduleRange{{Start: 5}}, Comment: "daily at 00:05 UTC",
		}}},
		Action: &client.ScheduleWorkflowAction{ID: TermsSweepWorkflowID, Workflow: TermsSweepWorkflow, TaskQueue: f.taskQueue,
			Args: []any{TermsSweepInput{}}}, // as of the day it runs
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
		CatchupWindow: 7 * 24 * time.Hour,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create terms schedule: %w", err)
	}
	return nil
}
