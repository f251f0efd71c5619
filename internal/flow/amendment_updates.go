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
// amendment once withdrawn. seen is the state of the amendment it was asked
// on (see Decide).
func (f *Client) Withdraw(ctx context.Context, workflowID, seen string, by Actor) (Outcome, error) {
	return f.updateAmendment(ctx, workflowID, seen, UpdateWithdraw, by.ID, by)
}

// Decide approves or rejects an amendment held in REVIEW and returns it once
// the workflow has acted on the decision. seen names the state of the
// amendment the decision was sent on (its quote version and history, as
// read): the same decision sent on the same state is the same Update.
func (f *Client) Decide(ctx context.Context, workflowID, seen string, approve bool, d Decision) (Outcome, error) {
	update := UpdateReject
	if approve {
		update = UpdateApprove
	}
	return f.updateAmendment(ctx, workflowID, seen, update, d.Actor.ID, d)
}

// updateAmendment sends a person's Update (a decision, a withdrawal) and
// waits for its outcome. Its id is the Update, its argument and the state of
// the amendment it was sent on, so that the same request sent again while
// the first waits (a client retrying, or sending it several times at once)
// joins the first rather than adding an Update in flight: Temporal takes
// only so many at once per workflow (10 by default), and one past them, a
// timeline notice from another amendment's workflow, would wait for them.
// Temporal keeps a completed Update's outcome for its id, a refusal
// included; the state in the id makes a request sent once the amendment has
// changed a new one, asked again.
func (f *Client) updateAmendment(ctx context.Context, workflowID, seen, update, actorID string, arg any) (Outcome, error) {
	id, err := sameRequestID(update, seen, arg)
	if err != nil {
		return Outcome{}, err
	}
	ctx = f.sign(ctx, workflowID, update, actorID, arg)
	handle, err := f.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: id, WorkflowID: workflowID, UpdateName: update, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	out, err := outcomeOf(ctx, handle, err)
	if err != nil && waitCutShort(err) {
		// ctx's deadline (the SDK ends its wait a little before it, with
		// its own error): the workflow has not acted yet.
		return out, fmt.Errorf("%s of %s: %w", update, workflowID, ErrAnswerPending)
	}
	return out, err
}

// sameRequestID names an Update by its name, argument and the state seen.
func sameRequestID(update, seen string, arg any) (string, error) {
	b, err := json.Marshal(arg)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", update, err)
	}
	sum := sha256.Sum256(append([]byte(seen+"\n"), b...))
	return update + "-" + hex.EncodeToString(sum[:16]), nil
}
