package workflows

import (
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/activities"
)

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
	env.RegisterActivity(&activities.Activities{})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}
