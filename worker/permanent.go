package worker

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// integrityAttempts is how often a constraint violation is retried before it
// counts as permanent: enough for a race with a concurrent writer to resolve.
const integrityAttempts = 3

// permanentFailures stops retrying what can never succeed. Activities return
// infrastructure errors as they are, to be retried; but a value Postgres
// refuses (or a constraint it keeps enforcing) fails the same way every
// time, and retrying it forever leaves the caller waiting and the workflow
// running on nothing. Such an error becomes a non-retryable application
// error of type domain.KindInternal: workflows end on it, and the API
// answers it with a 500 that shows no SQL.
type permanentFailures struct {
	interceptor.WorkerInterceptorBase
}

func (permanentFailures) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &permanentActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type permanentActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *permanentActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	out, err := a.Next.ExecuteActivity(ctx, in)
	if err != nil && isPermanent(err, activity.GetInfo(ctx).Attempt) {
		// The cause stays in the workflow's history for operators.
		err = temporal.NewNonRetryableApplicationError("permanent failure: "+err.Error(), string(domain.KindInternal), err)
	}
	return out, err
}

func isPermanent(err error, attempt int32) bool {
	return store.RefusedValue(err) || (store.IntegrityViolation(err) && attempt >= integrityAttempts)
}
