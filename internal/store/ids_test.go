package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// The store's functions take an id in any spelling of its uuid, and pass
// Postgres only the canonical one: a URN, which Postgres refuses, names the
// same clock or subscription.
func TestTheStoreTakesAnySpellingOfAnID(t *testing.T) {
	ctx := context.Background()
	st := testdb.Migrated(t)
	tenant, err := st.CreateTenant(ctx, store.Tenant{Prefix: "SPELT", Name: "spelt", Sandbox: true}, nil)
	require.NoError(t, err)
	actor, now := uuid.NewString(), time.Now()
	clock, err := st.CreateTestClock(ctx, tenant.ID, actor, "rehearsal", now, now)
	require.NoError(t, err)
	urn := "urn:uuid:" + clock.ID

	advancing, err := st.StartAdvance(ctx, tenant.ID, urn, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, store.ClockAdvancing, advancing.Status)
	step, err := st.NextClockStep(ctx, tenant.ID, urn, 0, store.ClockStep{})
	require.NoError(t, err)
	assert.False(t, step.At.IsZero())
	deleted, err := st.DeleteTestClock(ctx, tenant.ID, urn, actor, now)
	require.NoError(t, err)
	assert.Equal(t, store.ClockDeleted, deleted.Status)

	hook, err := st.CreateWebhook(ctx, store.NewWebhook{ID: uuid.NewString(), TenantID: tenant.ID, URL: "https://example.com/hooks",
		Events: []string{store.EventContractCreated}, Secret: "whsec_x", ActorID: actor}, now)
	require.NoError(t, err)
	_, _, err = st.WebhookDeliveries(ctx, tenant.ID, "urn:uuid:"+hook.ID, 0, 10)
	assert.NoError(t, err)
}
