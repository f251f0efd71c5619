package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/client"
)

// Withdraw asks the amendment's workflow to withdraw it and returns the
// amendment once withdrawn.
func (f *Client) Withdraw(ctx context.Context, workflowID string, by Actor) (Outcome, error) {
	return f.updateAmendment(ctx, workflowID, UpdateWithdraw, by.ID, by)
}

// Decide approves or rejects an amendment held in REVIEW and returns it once
// the workflow has acted on the decision.
func (f *Client) Decide(ctx context.Context, workflowID string, approve bool, d Decision) (Outcome, error) {
	update := UpdateReject
	if approve {
		update = UpdateApprove
	}
	return f.updateAmendment(ctx, workflowID, update, d.Actor.ID, d)
}

// updateAmendment sends a person's Update (a decision, a withdrawal) and
// waits for its outcome. Its id is the Update and its argument, so that the
// same request sent again while the first waits (a client retrying, or
// sending it several times at once) joins the first rather than adding an
// Update in flight: Temporal takes only so many at once per workflow (10 by
// default), and one past them, a timeline notice from another amendment's
// workflow, would wait for them. A refused one is not kept, so sending it
// again asks again.
func (f *Client) updateAmendment(ctx context.Context, workflowID, update, actorID string, arg any) (Outcome, error) {
	id, err := sameRequestID(update, arg)
	if err != nil {
		return Outcome{}, err
	}
	ctx = f.sign(ctx, workflowID, update, actorID)
	handle, err := f.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: id, WorkflowID: workflowID, UpdateName: update, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	return outcomeOf(ctx, handle, err)
}

// sameRequestID names an Update by its name and argument.
func sameRequestID(update string, arg any) (string, error) {
	b, err := json.Marshal(arg)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", update, err)
	}
	sum := sha256.Sum256(b)
	return update + "-" + hex.EncodeToString(sum[:16]), nil
}
