package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// Only the API decides (see flow.UpdateKey): a workflow's Update validators
// refuse an Update the API did not sign. The worker's interceptor gives the
// workflows the key to check with.

// updateCheck decides whether an Update came through the API.
type updateCheck func(grant *flow.UpdateGrant, workflowID, update, actorID string, arg any, now time.Time) error

type checkContextKey struct{}

// NewUpdateKeyInterceptor gives workflows the key to check Updates with.
// Without it every Update is refused: a worker that cannot tell who sent an
// Update does not act on it.
func NewUpdateKeyInterceptor(key flow.UpdateKey) interceptor.WorkerInterceptor {
	return &updateCheckInterceptor{check: key.Verify}
}

type updateCheckInterceptor struct {
	interceptor.WorkerInterceptorBase
	check updateCheck
}

func (i *updateCheckInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &updateCheckWorkflow{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, check: i.check}
}

type updateCheckWorkflow struct {
	interceptor.WorkflowInboundInterceptorBase
	check updateCheck
}

func (w *updateCheckWorkflow) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	return w.Next.ExecuteWorkflow(workflow.WithValue(ctx, checkContextKey{}, w.check), in)
}

// senderCheck returns the workflow's check of Updates; call it with the
// workflow's own context, since an Update's context does not carry it.
func senderCheck(ctx workflow.Context) updateCheck {
	check, _ := ctx.Value(checkContextKey{}).(updateCheck)
	return check
}

// refuseUnsigned is the validators' guard: nil when the Update in ctx (an
// Update's context) was signed by the API for this workflow, update, actor
// and argument (arg as the validator got it; nil for none), else a refusal
// the API maps to 403.
func refuseUnsigned(ctx workflow.Context, check updateCheck, update, actorID string, arg any) error {
	grant := flow.UpdateGrantOf(ctx)
	err := errors.New("this worker has no key to check Updates with")
	if check != nil {
		err = check(grant, workflow.GetInfo(ctx).WorkflowExecution.ID, update, actorID, arg, workflow.Now(ctx))
	}
	if err != nil {
		return temporal.NewApplicationError("refused: only the API may send "+update+" ("+err.Error()+")", string(domain.KindForbidden))
	}
	return nil
}
