// Package correlation carries the ids that let one change be followed from
// the HTTP request through its workflow to its activities: the service's
// request id and the caller's trace id. A Temporal context propagator moves
// them in workflow and activity headers, where the Temporal UI shows them too.
package correlation

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// IDs identify the request a piece of work belongs to.
type IDs struct {
	RequestID string `json:"requestId,omitempty"`
	TraceID   string `json:"traceId,omitempty"`
}

// headerKey names the Temporal header the ids travel in.
const headerKey = "contractd-correlation"

type ctxKey struct{}

// With returns ctx carrying ids.
func With(ctx context.Context, ids IDs) context.Context {
	return context.WithValue(ctx, ctxKey{}, ids)
}

// From returns the ids ctx carries, if any.
func From(ctx context.Context) IDs {
	ids, _ := ctx.Value(ctxKey{}).(IDs)
	return ids
}

// FromWorkflow returns the ids a workflow was started with.
func FromWorkflow(ctx workflow.Context) IDs {
	ids, _ := ctx.Value(ctxKey{}).(IDs)
	return ids
}

// LogAttrs are the ids as log attributes.
func (ids IDs) LogAttrs() []any {
	return []any{slog.String("requestId", ids.RequestID), slog.String("traceId", ids.TraceID)}
}

// Propagator moves IDs between Go contexts, workflow contexts and Temporal headers.
type Propagator struct{}

var _ workflow.ContextPropagator = Propagator{}

func inject(ids IDs, w workflow.HeaderWriter) error {
	if ids == (IDs{}) {
		return nil
	}
	payload, err := converter.GetDefaultDataConverter().ToPayload(ids)
	if err != nil {
		return err
	}
	w.Set(headerKey, payload)
	return nil
}

func extract(r workflow.HeaderReader) (IDs, bool, error) {
	payload, ok := r.Get(headerKey)
	if !ok {
		return IDs{}, false, nil
	}
	var ids IDs
	err := converter.GetDefaultDataConverter().FromPayload(payload, &ids)
	return ids, err == nil, err
}

// Inject writes the ids of a client or activity context into outgoing headers.
func (Propagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return inject(From(ctx), w)
}

// Extract puts the ids from incoming headers into an activity's context.
func (Propagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	ids, ok, err := extract(r)
	if !ok {
		return ctx, err
	}
	return With(ctx, ids), nil
}

// InjectFromWorkflow passes a workflow's ids on to its activities and children.
func (Propagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return inject(FromWorkflow(ctx), w)
}

// ExtractToWorkflow gives a workflow the ids it was started with.
func (Propagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	ids, ok, err := extract(r)
	if !ok {
		return ctx, err
	}
	return workflow.WithValue(ctx, ctxKey{}, ids), nil
}
