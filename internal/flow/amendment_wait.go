package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// ErrAnswerPending reports that an amendment's workflow is running but did
// not answer within the caller's wait (a busy Temporal server or worker, a
// payment provider that is slow to answer). The change is accepted and goes on
// without the caller, so the caller must not be told to send it again: the API
// answers 202 with the amendment's id to follow.
var ErrAnswerPending = errors.New("the amendment's workflow has not answered yet")

// answerRetryPause spaces the questions to a Temporal server that ends its
// wait for an update's outcome early (its own deadline, under load).
const answerRetryPause = 100 * time.Millisecond

// outcomeUpdate is the Update that asks an amendment workflow for its answer.
// Its id is fixed by the request, so asking again (a wait that Temporal cut
// short, or the request repeated with its Idempotency-Key) joins the Update
// already sent rather than adding one.
func outcomeUpdate(requestHash string) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{
		UpdateID: "outcome-" + requestHash, UpdateName: UpdateOutcome, Args: []any{requestHash},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
}

// askOutcome sends (or joins) the outcome Update of a running amendment
// workflow and waits for its answer while ctx lasts.
func (f *Client) askOutcome(ctx context.Context, workflowID, requestHash, actorID string) (Outcome, error) {
	ctx = f.sign(ctx, workflowID, UpdateOutcome, actorID, requestHash)
	opts := outcomeUpdate(requestHash)
	opts.WorkflowID = workflowID
	handle, err := f.c.UpdateWorkflow(ctx, opts)
	return outcomeOf(ctx, handle, err)
}

// keepWaiting goes on asking for the workflow's answer after Temporal ended a
// wait early, until waitCtx ends. A wait that ends with the workflow
// running, or an Update that finds it closed, is ErrAnswerPending; with no
// workflow shown (the start has not reached Temporal, or not yet) it is the
// wait's own error marked errNotShown, on which StartAmendment makes sure
// of the start. The caller's own cancellation (ctx) is returned as is.
func (f *Client) keepWaiting(ctx, waitCtx context.Context, workflowID, requestHash, actorID string, out Outcome, err error) (Outcome, error) {
	for err != nil && ctx.Err() == nil && waitCutShort(err) {
		if waitCtx.Err() != nil {
			return out, f.pendingOr(ctx, workflowID, err)
		}
		select {
		case <-waitCtx.Done():
			continue
		case <-time.After(answerRetryPause):
		}
		out, err = f.askOutcome(waitCtx, workflowID, requestHash, actorID)
	}
	var closed *serviceerror.NotFound
	if errors.As(err, &closed) && ctx.Err() == nil {
		// Temporal aborts an Update that reaches a workflow as it closes
		// ("aborted by closing workflow"), as the outcome Update asked
		// again after a wait cut short can: the workflow has done its work,
		// and the amendment is to be read as it stands, not answered 500.
		return out, f.pendingOr(ctx, workflowID, err)
	}
	return out, err
}

// errNotShown marks a wait that ended without Temporal showing the
// amendment's workflow: it was not started, or not yet, or Temporal could
// not say.
var errNotShown = errors.New("its workflow is not known to Temporal")

// pendingOr is ErrAnswerPending when the amendment's workflow exists, and
// waitErr marked errNotShown otherwise.
func (f *Client) pendingOr(ctx context.Context, workflowID string, waitErr error) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := f.c.DescribeWorkflowExecution(dctx, workflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return fmt.Errorf("amendment workflow %s: %w", workflowID, ErrAnswerPending)
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: %w", errNotShown, waitErr)
	default:
		return fmt.Errorf("%w: %w (whether it started is unknown: %v)", errNotShown, waitErr, err)
	}
}

// waitCutShort recognises a wait for an Update that ended before its answer:
// the caller's deadline, or Temporal's own for one long poll.
func waitCutShort(err error) bool {
	var (
		timedOut *client.WorkflowUpdateServiceTimeoutOrCanceledError
		deadline *serviceerror.DeadlineExceeded
		canceled *serviceerror.Canceled
	)
	return errors.As(err, &timedOut) || errors.As(err, &deadline) || errors.As(err, &canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// startAfterWait starts the amendment's workflow, or finds it, after the
// wait for its answer ended before Temporal showed it (waitErr): the
// Update-with-Start may never have been sent, or may still land. Either way
// the change is then made once, and the caller is told it is pending; only
// when this start fails too is it told waitErr, and may retry.
func (f *Client) startAfterWait(ctx context.Context, opts client.StartWorkflowOptions, in OpenAmendmentInput, waitErr error) error {
	sctx, cancel := context.WithTimeout(ctx, startAfterWaitLimit)
	defer cancel()
	// A run that ended already is the change made, not one to make again.
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	_, err := f.c.ExecuteWorkflow(sctx, opts, AmendmentWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err == nil || errors.As(err, &started) {
		return fmt.Errorf("amendment workflow %s: %w", in.WorkflowID, ErrAnswerPending)
	}
	return fmt.Errorf("%w (and starting its workflow after the wait failed: %v)", waitErr, err)
}

// startAfterWaitLimit bounds startAfterWait's start: past the caller's
// wait, it is only to learn whether the change is made.
const startAfterWaitLimit = 5 * time.Second
