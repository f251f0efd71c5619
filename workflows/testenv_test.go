package workflows

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/flow"
)

// BatchedCollection names the change that batched collections, for the
// tests of runs and dunning recorded before it.
const BatchedCollection = batchedCollection

// DelayedDunning names the change that started dunning from an activity,
// for the tests of runs recorded before it.
const DelayedDunning = delayedDunning

// LateDunning names the change that counts a late-billed invoice's retries
// from the day its dunning began, for the tests of dunnings run before it.
const LateDunning = lateDunning

func trustEveryUpdate(*flow.UpdateGrant, string, string, string, any, time.Time) error { return nil }

// NewTestEnv builds a testsuite environment with a quiet logger (the SDK's
// debug output would bury a failing test's own) and every activity
// registered, so tests mock just the ones they exercise; the mocks'
// expectations are checked when the test ends. configure adjusts the suite
// first, e.g. to set a metrics handler. Exported for the workflows_test package.
func NewTestEnv(t *testing.T, configure ...func(*testsuite.WorkflowTestSuite)) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	for _, c := range configure {
		c(&s)
	}
	env := s.NewTestWorkflowEnvironment()
	// The test suite sends Updates without headers, so without the API's
	// signature: these tests trust every Update (updateauth_test.go checks
	// the real check).
	// A workflow task that runs a full second is taken for a deadlock; on a
	// loaded machine (two cores, several test binaries) a test of several
	// workflows got there without one, so the tests allow ten.
	env.SetWorkerOptions(worker.Options{
		Interceptors:             []interceptor.WorkerInterceptor{&updateCheckInterceptor{check: trustEveryUpdate}},
		DeadlockDetectionTimeout: 10 * time.Second,
	})
	for _, group := range []any{&activities.Amendments{}, &activities.Contracts{}, &activities.Schedules{},
		&activities.Billing{}, &activities.Collections{}, &activities.Payments{}, &activities.Webhooks{}, &activities.Terms{}, &activities.Clocks{}} {
		env.RegisterActivity(group)
	}
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}
