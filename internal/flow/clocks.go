package flow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Test clocks: a sandbox tenant's contracts may live on a clock that moves
// only when advanced (see store/test_clocks.go). The workflows of such a
// contract are the same workflows; where one would sleep on a timer, it
// records what it waits for and waits for the Update UpdateClockAdvanced,
// which an advance's workflow sends when the clock reaches that moment.

// Workflow type names of test clocks.
const (
	TestClockAdvanceWorkflow = "TestClockAdvanceWorkflow"
	TestClockDeleteWorkflow  = "TestClockDeleteWorkflow"
)

// UpdateClockAdvanced tells a workflow waiting on its contract's test clock
// the clock's new time (a ClockAdvanced). Only the service sends it: its
// validator refuses an Update the service did not sign.
const UpdateClockAdvanced = "test-clock-advanced"

// ClockAdvanced is the payload of UpdateClockAdvanced.
type ClockAdvanced struct {
	Time time.Time
}

// TestClockInput names a tenant's test clock. For an advance, Advance is
// which of the clock's advances it carries out (zero in histories from
// before it was said: any), and Finished the last step it carried out
// (none before its first; a continued run starts with its predecessor's).
type TestClockInput struct {
	TenantID string
	ClockID  string
	Advance  int        `json:",omitempty"`
	Finished *ClockStep `json:",omitempty"`
}

// ClockDeletion asks for a tenant's test clock to be deleted, by ActorID.
type ClockDeletion struct {
	TenantID string
	ClockID  string
	ActorID  string
}

// ClockReading is a test clock and its time when read.
type ClockReading struct {
	ID   string
	Time time.Time
}

// ClockWaitInput records that a workflow waits on its test clock until Due.
type ClockWaitInput struct {
	ClockID    string
	WorkflowID string
	Due        time.Time
}

// ClockStep is one step of an advance (see store.ClockStep).
type ClockStep struct {
	At    time.Time
	Wake  bool
	Sweep bool
	Bill  bool
	Done  bool
}

// TestClockAdvanceWorkflowID names the n-th advance of a clock.
func TestClockAdvanceWorkflowID(tenantID, clockID string, n int) string {
	return "test-clock/" + tenantID + "/" + clockID + "/advance/" + strconv.Itoa(n)
}

// TestClockDeleteWorkflowID names a clock's deletion; a repeat joins it,
// or runs again once it has ended, changing nothing.
func TestClockDeleteWorkflowID(tenantID, clockID string) string {
	return "test-clock/" + tenantID + "/" + clockID + "/delete"
}

// ClockBillingRunWorkflowID is the billing run of one day of a test clock.
func ClockBillingRunWorkflowID(tenantID, clockID string, asOf time.Time) string {
	return "billing-run/" + tenantID + "/test-clock/" + clockID + "/" + asOf.UTC().Format(time.DateOnly)
}

// StartClockAdvance starts the n-th advance of a clock; a repeat joins it
// while it runs. Started again once it has closed (failed, or terminated
// from the Temporal UI), it carries on where the closed run left off if the
// clock is still on that advance, and otherwise ends at once (see
// store.NextClockStep).
func (f *Client) StartClockAdvance(ctx context.Context, in TestClockInput, n int, to time.Time) error {
	return f.startClockAdvance(ctx, in, n, to, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
}

// ResumeClockAdvance starts the n-th advance of a clock only if it was
// never started, and joins it while it runs: a read of the clock carries
// out an advance whose start was lost, but does not run again, at every
// poll, one that failed or that an operator stopped (repeating the advance
// request does). It reports closed when the advance's workflow ran and
// closed: it stopped, unless it finished the advance since the clock was
// read.
func (f *Client) ResumeClockAdvance(ctx context.Context, in TestClockInput, n int, to time.Time) (closed bool, err error) {
	err = f.startClockAdvance(ctx, in, n, to, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
	var ran *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &ran) {
		return true, nil
	}
	return false, err
}

func (f *Client) startClockAdvance(ctx context.Context, in TestClockInput, n int, to time.Time, reuse enumspb.WorkflowIdReusePolicy) error {
	in.Advance = n
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       TestClockAdvanceWorkflowID(in.TenantID, in.ClockID, n),
		TaskQueue:                f.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    reuse,
		// A run that closed and reuse refuses to follow is an error
		// (ResumeClockAdvance tells it), not that closed run handed back.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "Advance test clock " + in.ClockID + " to " + to.UTC().Format(time.RFC3339),
		TypedSearchAttributes:                    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID)),
	}, TestClockAdvanceWorkflow, in)
	if err != nil {
		return fmt.Errorf("start advancing test clock %s: %w", in.ClockID, err)
	}
	return nil
}

// DeleteClock runs a clock's deletion, or joins the one under way, and
// waits at most wait for its end; done is false when it goes on after that
// (no worker polling, say), rather than holding the request.
func (f *Client) DeleteClock(ctx context.Context, in ClockDeletion, wait time.Duration) (done bool, err error) {
	run, err := f.start(ctx, client.StartWorkflowOptions{
		ID:                       TestClockDeleteWorkflowID(in.TenantID, in.ClockID),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Delete test clock " + in.ClockID,
		TypedSearchAttributes:    temporal.NewSearchAttributes(TenantIDKey.ValueSet(in.TenantID)),
	}, TestClockDeleteWorkflow, in, "start deleting test clock "+in.ClockID)
	if err != nil {
		return false, err
	}
	return getWithin(ctx, run, nil, wait)
}

// TellClockAdvanced tells a workflow waiting on its test clock the clock's
// time, and returns once the workflow has taken note. It reports false
// when the workflow has closed.
func (f *Client) TellClockAdvanced(ctx context.Context, workflowID string, at time.Time) (bool, error) {
	advanced := ClockAdvanced{Time: at}
	_, err := f.c.UpdateWorkflow(f.sign(ctx, workflowID, UpdateClockAdvanced, "", advanced), client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: UpdateClockAdvanced, Args: []any{advanced},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		return true, nil
	}
	if closed, descErr := f.Closed(ctx, workflowID); descErr == nil && closed {
		return false, nil
	}
	return false, fmt.Errorf("tell %s its test clock's time: %w", workflowID, err)
}

// Closed reports whether a workflow has closed (or never existed).
func (f *Client) Closed(ctx context.Context, workflowID string) (bool, error) {
	desc, err := f.c.DescribeWorkflowExecution(ctx, workflowID, "")
	var gone *serviceerror.NotFound
	if errors.As(err, &gone) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Terminate stops a running workflow, saying why; one that has closed
// already is left as it is.
func (f *Client) Terminate(ctx context.Context, workflowID, reason string) error {
	err := f.c.TerminateWorkflow(ctx, workflowID, "", reason)
	var gone *serviceerror.NotFound
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("terminate %s: %w", workflowID, err)
	}
	return nil
}
