package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
)

func TestUpdateGrantCoversWorkflowUpdateActorAndExpiry(t *testing.T) {
	key := UpdateKey("a key of at least thirty-two characters")
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	grant := key.Grant("amendment/a1", UpdateApprove, "alice", now)
	require.NoError(t, key.verify(&grant, "amendment/a1", UpdateApprove, "alice", now.Add(GrantTTL-time.Second)))
	require.NoError(t, key.verify(&grant, "amendment/a1", UpdateApprove, "", now), "any actor, for Updates that name none")

	tampered := grant
	tampered.Expires = grant.Expires.Add(time.Hour)
	for name, err := range map[string]error{
		"another amendment": key.verify(&grant, "amendment/a2", UpdateApprove, "alice", now),
		"another update":    key.verify(&grant, "amendment/a1", UpdateReject, "alice", now),
		"another actor":     key.verify(&grant, "amendment/a1", UpdateApprove, "mallory", now),
		"expired":           key.verify(&grant, "amendment/a1", UpdateApprove, "alice", now.Add(GrantTTL)),
		"extended":          key.verify(&tampered, "amendment/a1", UpdateApprove, "alice", now.Add(2*GrantTTL)),
		"another key":       UpdateKey("another key of thirty-two characters").verify(&grant, "amendment/a1", UpdateApprove, "alice", now),
		"no key":            UpdateKey(nil).verify(&grant, "amendment/a1", UpdateApprove, "alice", now),
		"unsigned":          key.verify(nil, "amendment/a1", UpdateApprove, "alice", now),
	} {
		assert.Error(t, err, name)
	}
}

// A worker whose workflows cannot check Updates refuses them all: the test
// suite sends them unsigned, as the Temporal UI would.
func TestUnsignedDecisionIsRefusedByTheValidator(t *testing.T) {
	env := amendmentEnv(t)
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{NewUpdateKeyInterceptor(UpdateKey("the workers' key of thirty-two characters"))}})
	held := opened(domain.StatusReview, 0)
	held.ReviewExpiry = time.Hour
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(held, nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.Anything).Return(domain.Amendment{ID: "am-1", Status: domain.StatusExpired}, nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
	var refusal error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateApprove, "forged", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { refusal = err },
			OnAccept:   func() { t.Error("an unsigned approval was accepted") },
			OnComplete: func(any, error) {},
		}, Decision{Actor: Actor{ID: "made-up"}})
	}, time.Minute)

	env.ExecuteWorkflow(AmendmentWorkflow, activities.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	require.Error(t, refusal)
	assert.Contains(t, refusal.Error(), "only the API may send approve")
}
