package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

func (s *server) getAmendment(c *gin.Context) {
	am, err := s.Store.Amendment(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "amendment %q does not exist", c.Param("id")))
		return
	}
	s.answerAmendment(c, am)
}

// answerAmendment answers 200 with am and its actors' names.
func (s *server) answerAmendment(c *gin.Context, am domain.Amendment) {
	s.answerAmendmentAs(c, http.StatusOK, am)
}

// answerAmendmentAs answers status with am and its actors' names.
func (s *server) answerAmendmentAs(c *gin.Context, status int, am domain.Amendment) {
	view, err := s.amendmentView(c.Request.Context(), principal(c).TenantID, am)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, view)
}

func (s *server) listContractAmendments(c *gin.Context) {
	pageSize, after, err := amendmentPageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ct, err := s.Store.ContractTerms(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	items, more, err := s.Store.ContractAmendments(c.Request.Context(), principal(c).TenantID, ct.ID, after, pageSize)
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.amendmentViews(c.Request.Context(), principal(c).TenantID, items...)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := gin.H{"items": nonNil(views)}
	if more {
		page["nextPageToken"] = listCursorOf(items[len(items)-1].CreatedOn, items[len(items)-1].ID)
	}
	c.JSON(http.StatusOK, page)
}

// withdrawAmendment ends a SCHEDULED or REVIEW amendment; its workflow
// records the change and cancels its wait.
func (s *server) withdrawAmendment(c *gin.Context) {
	p := principal(c)
	by := flow.Actor{ID: p.ActorID, Source: string(p.Source)}
	s.updateAmendment(c, flow.UpdateWithdraw, []string{domain.StatusScheduled, domain.StatusReview}, domain.StatusWithdrawn, false,
		func(ctx context.Context, workflowID, seen string) (flow.Outcome, error) {
			return s.Temporal.Withdraw(ctx, workflowID, seen, by)
		})
}

// refuseWithdrawalOnAdvancingClock refuses (409) to withdraw a SCHEDULED
// amendment of a contract whose test clock is advancing: the advance's work
// was counted with it (a cancellation ends its contract's work there, a
// change of terms or billing period moves it), and withdrawn it could give
// the advance more than the work it was allowed (domain.MaxClockAdvanceWork).
func (s *server) refuseWithdrawalOnAdvancingClock(ctx context.Context, tenantID string, am domain.Amendment) error {
	clockID, err := s.Store.AdvancingClockOf(ctx, tenantID, am.ContractID)
	if err != nil || clockID == "" {
		return err
	}
	return domain.Errorf(domain.KindConflict, "", "amendment %s is part of the work counted for the advance of test clock %s, which its contract is on: "+
		"withdraw it once the clock is ready", am.ID, clockID)
}

type decisionRequest struct {
	Comment string `json:"comment"`
	// QuoteVersion is the quote version the approver saw: the approval is
	// refused with 409 when the amendment was re-priced since.
	QuoteVersion *int64 `json:"quoteVersion"`
}

func (s *server) approveAmendment(c *gin.Context) {
	s.decideAmendment(c, true, flow.UpdateApprove, flow.EventApproved)
}
func (s *server) rejectAmendment(c *gin.Context) {
	s.decideAmendment(c, false, flow.UpdateReject, domain.StatusRejected)
}

// decideAmendment delivers an approver's decision to the amendment's workflow.
func (s *server) decideAmendment(c *gin.Context, approve bool, update, event string) {
	var req decisionRequest
	if body, err := readBody(c); err != nil {
		s.fail(c, err)
		return
	} else if len(body) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			s.fail(c, err)
			return
		}
	}
	p := principal(c)
	d := flow.Decision{Actor: flow.Actor{ID: p.ActorID, Source: string(p.Source)}, Comment: req.Comment}
	if approve {
		d.QuoteVersion = req.QuoteVersion
	}
	s.updateAmendment(c, update, []string{domain.StatusReview}, event, true,
		func(ctx context.Context, workflowID, seen string) (flow.Outcome, error) {
			return s.Temporal.Decide(ctx, workflowID, seen, approve, d)
		})
}

// updateAmendment sends an update to the amendment's workflow and answers
// with the amendment's state once the workflow has acted on it. The status
// and four-eyes checks here answer early; the workflow's validator is the
// one that counts, since the state may change in between.
//
// A caller retrying a decision or withdrawal it already made (its answer was
// lost to a timeout or a crash) gets the amendment back instead of a
// conflict: event is what the history records once the update has acted.
// While the amendment is still open the update is sent again: Postgres may
// hold a decision its workflow lost (the workflow task that took it failed
// after the step had committed, and Temporal aborted the update), and the
// workflow, asked again, takes it again (the store's step is idempotent)
// or, if it has it, answers with what it did. A withdrawal or a rejection
// is sent again even once the amendment is WITHDRAWN or REJECTED (its
// status is then event), which is all its step leaves when the workflow
// lost it: the workflow takes it from Postgres and ends (one that has ended
// answers NotFound), and the caller is answered with the amendment as
// Postgres holds it, whatever the workflow says. An approval's step leaves
// the amendment open: once it has ended, its workflow has done with it, and
// a retry is answered from Postgres alone.
// send delivers the update (deciding: a decision, under the four-eyes rule),
// saying which state of the amendment it was sent on (see flow's Decide).
func (s *server) updateAmendment(c *gin.Context, update string, from []string, event string, deciding bool,
	send func(ctx context.Context, workflowID, seen string) (flow.Outcome, error)) {
	p := principal(c)
	am, err := s.Store.Amendment(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "amendment %q does not exist", c.Param("id")))
		return
	}
	retried := !slices.Contains(from, am.Status) && am.ActedBy(event, p.ActorID)
	settled := retried && !slices.Contains(domain.OpenStatuses, am.Status)
	switch {
	case settled && am.Status != event:
		s.answerAmendment(c, am) // done, and its workflow with it
		return
	case !retried && !slices.Contains(from, am.Status):
		s.fail(c, domain.Errorf(domain.KindConflict, "", "amendment %s is %s; %s needs it to be %s", am.ID, am.Status, update, strings.Join(from, " or ")))
		return
	case deciding && am.SubmittedBy == p.ActorID:
		s.fail(c, domain.Errorf(domain.KindForbidden, "", "the submitter of an amendment cannot decide it (four-eyes rule)"))
		return
	case update == flow.UpdateWithdraw && p.Source == auth.SourceCustomer && am.Source != string(auth.SourceCustomer):
		// A customer undoes its own requests, not the business's: a probe's
		// customer key withdrew a cancellation staff had scheduled.
		s.fail(c, domain.Errorf(domain.KindForbidden, "", "a customer key withdraws only the changes its account submitted; amendment %s was submitted through %s", am.ID, am.Source))
		return
	}
	if update == flow.UpdateWithdraw && am.Status == domain.StatusScheduled {
		if err := s.refuseWithdrawalOnAdvancingClock(c.Request.Context(), scope(c).TenantID, am); err != nil {
			s.fail(c, err)
			return
		}
	}
	// Bounded as a change's answer is: an approval of a due change waits
	// for its apply, which may wait its turn behind another change.
	waitCtx, cancel := context.WithTimeout(c.Request.Context(), s.AmendmentWait)
	defer cancel()
	out, err := send(waitCtx, am.WorkflowID, fmt.Sprintf("quote %d, history %d", am.QuoteVersion, len(am.History)))
	if settled {
		// Sent so that a workflow that lost the withdrawal or rejection
		// ends; one from before it could take it from Postgres refuses it
		// (this one is WITHDRAWN, or REJECTED).
		s.answerAmendment(c, am)
		return
	}
	if errors.Is(err, flow.ErrAnswerPending) && c.Request.Context().Err() == nil {
		s.answerPendingUpdate(c, am.ID)
		return
	}
	var gone *serviceerror.NotFound
	if err != nil && !errors.As(err, &gone) {
		s.fail(c, err)
		return
	}
	// Read back what was committed: the workflow's copy may predate the
	// invoice, and one that closed first (the same decision sent twice at
	// once, the first one applied) has none.
	fresh, readErr := s.Store.Amendment(c.Request.Context(), scope(c), am.ID)
	switch {
	case readErr == nil && err != nil && !fresh.ActedBy(event, p.ActorID):
		s.fail(c, domain.Errorf(domain.KindConflict, "", "amendment %s is no longer open", am.ID))
		return
	case readErr == nil:
		out.Amendment = &fresh
	case out.Amendment == nil:
		s.fail(c, readErr)
		return
	}
	s.answerAmendment(c, *out.Amendment)
}

// answerPendingUpdate answers a decision or withdrawal whose workflow has
// not acted on it within AmendmentWait: 202 with the amendment as it stands
// and where to follow it. Sent again, the same request is the same Update
// while the amendment has not changed (see flow's Decide), and the same
// decision, waiting for the first one's outcome, once it has.
func (s *server) answerPendingUpdate(c *gin.Context, id string) {
	am, err := s.Store.Amendment(c.Request.Context(), scope(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/amendments/"+am.ID)
	c.Header("Retry-After", "1")
	s.answerAmendmentAs(c, http.StatusAccepted, am)
}
