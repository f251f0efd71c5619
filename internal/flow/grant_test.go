package flow

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateGrantCoversWorkflowUpdateActorArgumentAndExpiry(t *testing.T) {
	key := UpdateKey("a key of at least thirty-two characters")
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	quote := int64(3)
	decision := Decision{Actor: Actor{ID: "alice", Source: "API"}, Comment: "fine <by me>", QuoteVersion: &quote}
	grant := key.Grant("amendment/a1", UpdateApprove, "alice", decision, now)
	require.NoError(t, key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", decision, now.Add(GrantTTL-time.Second)))
	require.NoError(t, key.Verify(&grant, "amendment/a1", UpdateApprove, "", decision, now), "any actor, for Updates that name none")
	received := Decision{}
	require.NoError(t, json.Unmarshal(mustJSON(t, decision), &received))
	require.NoError(t, key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", received, now), "the argument as a validator decodes it")
	unsigned := key.Grant("amendment/a1", UpdateTimelineChanged, "", nil, now)
	require.NoError(t, key.Verify(&unsigned, "amendment/a1", UpdateTimelineChanged, "", nil, now), "an Update without an argument")
	other := decision
	other.QuoteVersion, other.Comment = nil, "replayed"

	tampered := grant
	tampered.Expires = grant.Expires.Add(time.Hour)
	for name, err := range map[string]error{
		"another amendment": key.Verify(&grant, "amendment/a2", UpdateApprove, "alice", decision, now),
		"another update":    key.Verify(&grant, "amendment/a1", UpdateReject, "alice", decision, now),
		"another actor":     key.Verify(&grant, "amendment/a1", UpdateApprove, "mallory", decision, now),
		"another argument":  key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", other, now),
		"no argument":       key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", nil, now),
		"expired":           key.Verify(&grant, "amendment/a1", UpdateApprove, "alice", decision, now.Add(GrantTTL)),
		"extended":          key.Verify(&tampered, "amendment/a1", UpdateApprove, "alice", decision, now.Add(2*GrantTTL)),
		"another key":       UpdateKey("another key of thirty-two characters").Verify(&grant, "amendment/a1", UpdateApprove, "alice", decision, now),
		"no key":            UpdateKey(nil).Verify(&grant, "amendment/a1", UpdateApprove, "alice", decision, now),
		"unsigned":          key.Verify(nil, "amendment/a1", UpdateApprove, "alice", decision, now),
	} {
		assert.Error(t, err, name)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
