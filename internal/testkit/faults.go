package testkit

import (
	"context"
	"fmt"
	"sync"

	"github.com/lib/pq"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// Faults injects failures into the activities of one Env's worker, local
// activities included: FailNext makes the next call of an activity fail the
// way Postgres refusing a value does (SQLSTATE 22021, a NUL byte), on every
// attempt, as the same value would. The worker classifies it as permanent
// like the real thing. It lives in the test kit only; production workers
// never carry it.
type Faults struct {
	interceptor.WorkerInterceptorBase
	mu      sync.Mutex
	pending map[string]int
	doomed  map[string]bool // calls (workflow run and activity id) failing on every attempt
}

// RefusedValue is the error an injected fault returns.
var RefusedValue = &pq.Error{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00 (injected)`}

// FailNext makes the next call of the named activity (its method name, such
// as "ApplyAmendment") fail, retries included; later calls run as usual.
func (f *Faults) FailNext(activityType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending == nil {
		f.pending = map[string]int{}
	}
	f.pending[activityType]++
}

// fails reports whether this attempt fails: it belongs to a call that took a
// pending fault of its activity on its first attempt.
func (f *Faults) fails(info activity.Info) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID
	if f.doomed[call] {
		return true
	}
	if f.pending[info.ActivityType.Name] == 0 {
		return false
	}
	f.pending[info.ActivityType.Name]--
	if f.doomed == nil {
		f.doomed = map[string]bool{}
	}
	f.doomed[call] = true
	return true
}

func (f *Faults) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &faultyActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, faults: f}
}

type faultyActivity struct {
	interceptor.ActivityInboundInterceptorBase
	faults *Faults
}

func (a *faultyActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if a.faults.fails(info) {
		return nil, fmt.Errorf("%s: %w", info.ActivityType.Name, RefusedValue)
	}
	return a.Next.ExecuteActivity(ctx, in)
}
