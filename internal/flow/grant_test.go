package flow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateGrantCoversWorkflowUpdateActorAndExpiry(t *testing.T) {
	key := UpdateKey("a key of at least thirty-two characters")
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	grant := key.Grant("amendment/a1", UpdateApprove, "alice", now)
	require.NoError(t, key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", now.Add(GrantTTL-time.Second)))
	require.NoError(t, key.Verify(&grant, "amendment/a1", UpdateApprove, "", now), "any actor, for Updates that name none")

	tampered := grant
	tampered.Expires = grant.Expires.Add(time.Hour)
	for name, err := range map[string]error{
		"another amendment": key.Verify(&grant, "amendment/a2", UpdateApprove, "alice", now),
		"another update":    key.Verify(&grant, "amendment/a1", UpdateReject, "alice", now),
		"another actor":     key.Verify(&grant, "amendment/a1", UpdateApprove, "mallory", now),
		"expired":           key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", now.Add(GrantTTL)),
		"extended":          key.Verify(&tampered, "amendment/a1", UpdateApprove, "alice", now.Add(2*GrantTTL)),
		"another key":       UpdateKey("another key of thirty-two characters").Verify(&grant, "amendment/a1", UpdateApprove, "alice", now),
		"no key":            UpdateKey(nil).Verify(&grant, "amendment/a1", UpdateApprove, "alice", now),
		"unsigned":          key.Verify(nil, "amendment/a1", UpdateApprove, "alice", now),
	} {
		assert.Error(t, err, name)
	}
}
