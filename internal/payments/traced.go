package payments

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Traced is provider with each call a client span of tp, so that a trace
// shows the time spent at the provider apart from the service's own
// statements (the sandbox's ledger statements are its children).
func Traced(provider Provider, tp trace.TracerProvider) Provider {
	return tracedProvider{next: provider, tracer: tp.Tracer("github.com/contractd/contractd/internal/payments")}
}

type tracedProvider struct {
	next   Provider
	tracer trace.Tracer
}

func (p tracedProvider) Authorise(ctx context.Context, key string, req AuthoriseRequest) (Authorisation, error) {
	return inSpan(ctx, p.tracer, "payments.Authorise", func(ctx context.Context) (Authorisation, error) {
		return p.next.Authorise(ctx, key, req)
	}, attribute.Int64("payment.amount", req.Amount), attribute.String("payment.currency", req.Currency))
}

func (p tracedProvider) Capture(ctx context.Context, key, authorisationID string, amount int64) (Capture, error) {
	return inSpan(ctx, p.tracer, "payments.Capture", func(ctx context.Context) (Capture, error) {
		return p.next.Capture(ctx, key, authorisationID, amount)
	}, attribute.Int64("payment.amount", amount))
}

func (p tracedProvider) Void(ctx context.Context, key, authorisationID string) (Void, error) {
	return inSpan(ctx, p.tracer, "payments.Void", func(ctx context.Context) (Void, error) {
		return p.next.Void(ctx, key, authorisationID)
	})
}

func (p tracedProvider) Refund(ctx context.Context, key, captureID string, amount int64) (Refund, error) {
	return inSpan(ctx, p.tracer, "payments.Refund", func(ctx context.Context) (Refund, error) {
		return p.next.Refund(ctx, key, captureID, amount)
	}, attribute.Int64("payment.amount", amount))
}

// inSpan runs call in a client span named name. A refusal is an error of
// the span with its code as an attribute: the trace shows why a payment
// did not go through.
func inSpan[R any](ctx context.Context, tracer trace.Tracer, name string, call func(context.Context) (R, error), attrs ...attribute.KeyValue) (R, error) {
	ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	out, err := call(ctx)
	if err != nil {
		var refusal *Error
		if errors.As(err, &refusal) {
			span.SetAttributes(attribute.String("payment.refusal", string(refusal.Code)))
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return out, err
}
