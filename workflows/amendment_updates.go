package workflows

import (
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// registerHandlers answers the Updates clients send (see flow.Client): each
// validator first refuses an Update the API did not sign.
func (w *amendment) registerHandlers(ctx workflow.Context) error {
	w.check = senderCheck(ctx)
	if err := w.clock.listen(ctx); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateOutcome,
		func(ctx workflow.Context, _ string) (flow.Outcome, error) {
			if err := workflow.Await(ctx, func() bool { return w.settled || w.done }); err != nil {
				return w.out, err
			}
			if !w.settled {
				// The workflow ended without an answer: say so, never hang.
				return w.out, temporal.NewNonRetryableApplicationError(internalFailureMessage, string(domain.KindInternal), nil)
			}
			return w.out, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, requestHash string) error {
			if err := refuseUnsigned(ctx, w.check, flow.UpdateOutcome, "", requestHash); err != nil {
				return err
			}
			if requestHash != w.in.RequestHash {
				return temporal.NewApplicationError(domain.ErrIdempotencyKeyReused.Message, string(domain.ErrIdempotencyKeyReused.Kind))
			}
			return nil
		}})
	if err != nil {
		return err
	}
	if err := w.registerDecision(ctx, flow.UpdateApprove, true); err != nil {
		return err
	}
	if err := w.registerDecision(ctx, flow.UpdateReject, false); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateTimelineChanged,
		func(ctx workflow.Context) error {
			w.rebased = true
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
			return refuseUnsigned(ctx, w.check, flow.UpdateTimelineChanged, "", nil)
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, flow.UpdateWithdraw,
		func(ctx workflow.Context, by flow.Actor) (flow.Outcome, error) {
			if err := workflow.Await(ctx, w.opened); err != nil {
				return w.out, err
			}
			if err := w.withdrawalRefusal(by); err != nil {
				return w.out, err
			}
			if w.withdraw == nil {
				w.withdraw = &by
			}
			if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
				return w.out, err
			}
			return w.out, w.internalFailure()
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, by flow.Actor) error {
			if err := refuseUnsigned(ctx, w.check, flow.UpdateWithdraw, by.ID, by); err != nil {
				return err
			}
			if !w.opened() {
				return nil // the handler decides once the amendment is known
			}
			return w.withdrawalRefusal(by)
		}})
}

// opened reports whether this run knows the amendment (or has ended). An
// update can arrive before that: after a crash the client may have learnt
// of the amendment from the database while its workflow task is retried.
func (w *amendment) opened() bool { return w.out.Amendment != nil || w.done }

// withdrawalRefusal says why the amendment cannot be withdrawn now, or nil.
// The same actor asking again is a retry: it waits for the same outcome.
func (w *amendment) withdrawalRefusal(by flow.Actor) error {
	if w.withdraw != nil && w.withdraw.ID == by.ID {
		return nil
	}
	// A decision taken on a REVIEW amendment is being acted on: too late to withdraw.
	switch {
	case w.withdraw != nil:
		return conflict("the amendment is already being withdrawn by another request")
	case w.decision != nil && w.status() == domain.StatusReview:
		return conflict("a decision on the amendment is being acted on")
	case !slices.Contains([]string{domain.StatusScheduled, domain.StatusReview}, w.status()):
		return conflict("only a SCHEDULED or REVIEW amendment can be withdrawn; this one is " + w.status())
	}
	return nil
}

// conflict refuses an Update for the amendment's state, with why.
func conflict(why string) error {
	return temporal.NewApplicationError(why, string(domain.KindConflict))
}

// registerDecision accepts an approver's decision only while the amendment
// is in REVIEW and undecided, and never from its submitter (four eyes). The
// caller's answer waits until the workflow has acted on it.
func (w *amendment) registerDecision(ctx workflow.Context, name string, approve bool) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, d flow.Decision) (flow.Outcome, error) {
			if err := workflow.Await(ctx, w.opened); err != nil {
				return w.out, err
			}
			if err := w.decisionRefusal(d, approve); err != nil {
				return w.out, err
			}
			if w.decision == nil {
				w.decision, w.approved, w.decisionErr = &d, approve, nil
			}
			// An approved change that is due is accepted PENDING and applied
			// at once: the answer waits for the apply.
			acted := func() bool {
				return w.done || w.decisionErr != nil || w.status() != domain.StatusReview && w.status() != domain.StatusPending
			}
			if err := workflow.Await(ctx, acted); err != nil {
				return w.out, err
			}
			if refused := w.decisionErr; refused != nil {
				// Kept for every caller of the refused decision (a retry waits
				// beside the first); the next decision clears it.
				return w.out, refused
			}
			return w.out, w.internalFailure()
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d flow.Decision) error {
			if err := refuseUnsigned(ctx, w.check, name, d.Actor.ID, d); err != nil {
				return err
			}
			if !w.opened() {
				return nil // the handler decides once the amendment is known
			}
			return w.decisionRefusal(d, approve)
		}})
}

// decisionRefusal says why a decision cannot be taken now, or nil. The same
// approver sending the same decision again is a retry: it waits for the
// same outcome. A workflow still waiting for a decision takes an approval
// even when its amendment reads as accepted: Postgres then holds an
// approval this workflow lost (the workflow task that took it failed after the store's
// step committed), which the API sends again and the store's step, taken
// again, returns as it stands. A rejection it lost leaves the amendment
// REJECTED, which the workflow takes as its decision once it reads it (see
// adoptCommittedDecision): its approver's rejection sent again is a retry.
func (w *amendment) decisionRefusal(d flow.Decision, approve bool) error {
	if w.decision != nil && w.decision.Actor.ID == d.Actor.ID && w.approved == approve {
		return nil
	}
	// Only an approval is taken on an amendment read as accepted: Postgres
	// accepts one on its approval alone, and another approver's rejection
	// would end one it holds approved. (A lost rejection is taken when the
	// workflow reads it, above.)
	lost := approve && w.reviewing && domain.Accepted(w.status())
	switch {
	case w.decision != nil:
		return conflict("another decision on the amendment is being acted on")
	case w.withdraw != nil:
		return conflict("the amendment is being withdrawn")
	case w.status() != domain.StatusReview && !lost:
		return conflict("only an amendment in REVIEW can be decided; this one is " + w.status())
	}
	if d.Actor.ID == w.in.ActorID {
		return temporal.NewApplicationError("the submitter of an amendment cannot decide it (four-eyes rule)", string(domain.KindForbidden))
	}
	return nil
}
