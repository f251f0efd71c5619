package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/workflows"
)

func (s *server) getAmendment(c *gin.Context) {
	am, err := s.Store.Amendment(c, principal(c).TenantID, c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "amendment %q does not exist", c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, am)
}

func (s *server) listContractAmendments(c *gin.Context) {
	tenantID := principal(c).TenantID
	ct, err := s.Store.Contract(c, tenantID, c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	items, err := s.Store.ContractAmendments(c, tenantID, ct.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": nonNil(items)})
}

// withdrawAmendment ends a SCHEDULED or REVIEW amendment; its workflow
// records the change and cancels its wait.
func (s *server) withdrawAmendment(c *gin.Context) {
	p := principal(c)
	am, err := s.Store.Amendment(c, p.TenantID, c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "amendment %q does not exist", c.Param("id")))
		return
	}
	if am.Status != domain.StatusScheduled && am.Status != domain.StatusReview {
		s.fail(c, domain.Errorf(domain.KindConflict, "", "only a SCHEDULED or REVIEW amendment can be withdrawn; %s is %s", am.ID, am.Status))
		return
	}
	handle, err := s.Temporal.UpdateWorkflow(c, client.UpdateWorkflowOptions{
		WorkflowID: am.WorkflowID, UpdateName: workflows.UpdateWithdraw,
		Args:         []any{workflows.Actor{ID: p.ActorID, Source: string(p.Source)}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var out workflows.Outcome
	if err == nil {
		err = handle.Get(c, &out)
	}
	if err != nil {
		s.fail(c, decisionError(err, am))
		return
	}
	c.JSON(http.StatusOK, out.Amendment)
}

// decisionError explains an update the workflow would not take: it already
// moved on (or finished) since the amendment was read.
func decisionError(err error, am domain.Amendment) error {
	var gone *serviceerror.NotFound
	if errors.As(err, &gone) {
		return domain.Errorf(domain.KindConflict, "", "amendment %s is no longer open", am.ID)
	}
	return err
}
