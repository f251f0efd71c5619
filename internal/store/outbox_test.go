package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit/testdb"
)

// Events appended in one go are numbered after the tenant's last, in the
// order given, and read back as written: the data a webhook subscriber gets
// byte for byte, and the amendment only where one was named.
func TestAppendedEventsKeepTheirOrderAndContent(t *testing.T) {
	ctx := context.Background()
	st := testdb.Migrated(t)
	tenant, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OUTBOX", Name: "outbox"}, nil)
	require.NoError(t, err)
	contract, amendment := uuid.NewString(), uuid.NewString()
	at := time.Date(2027, 1, 2, 3, 4, 5, 123456000, time.FixedZone("CET", 3600))
	data := map[string]any{"note": "a \"quoted\" back\\slash,\nnewline {braces} 'single' ünïcode ✓"}

	require.NoError(t, store.AppendEvents(ctx, st, []store.TestEvent{
		{TenantID: tenant.ID, Type: store.EventContractCreated, ContractID: contract, At: at, Data: data},
	}))
	second := []store.TestEvent{
		{TenantID: tenant.ID, Type: store.EventAmendmentApplied, ContractID: contract, AmendmentID: &amendment, At: at, Data: data},
		{TenantID: tenant.ID, Type: store.EventInvoiceCreated, ContractID: contract, At: at.Add(time.Second), Data: map[string]int{"total": 1}},
		{TenantID: tenant.ID, Type: store.EventInvoicePaid, ContractID: contract, At: at, Data: []string{}},
	}
	require.NoError(t, store.AppendEvents(ctx, st, second))

	events, more, err := st.Events(ctx, tenant.ID, store.EventFilter{PageSize: 10})
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, events, 4)
	for i, ev := range events {
		assert.Equal(t, int64(i+1), ev.Sequence, "numbered in order")
		assert.Equal(t, contract, ev.ContractID)
	}
	assert.Equal(t, store.EventContractCreated, events[0].Type)
	assert.Nil(t, events[0].AmendmentID)
	for i, want := range second {
		got := events[i+1]
		assert.Equal(t, want.Type, got.Type)
		assert.True(t, want.At.Equal(got.OccurredAt), "%s occurred at %s, not %s", got.Type, got.OccurredAt, want.At)
		encoded, err := json.Marshal(want.Data)
		require.NoError(t, err)
		assert.JSONEq(t, string(encoded), string(got.Data))
	}
	assert.Equal(t, &amendment, events[1].AmendmentID)
	assert.Nil(t, events[2].AmendmentID)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(events[1].Data, &decoded))
	assert.Equal(t, data, decoded, "the text survives the array literal")

	other, err := st.CreateTenant(ctx, store.Tenant{Prefix: "OTHER", Name: "other"}, nil)
	require.NoError(t, err)
	err = store.AppendEvents(ctx, st, []store.TestEvent{
		{TenantID: tenant.ID, Type: store.EventInvoicePaid, ContractID: contract, At: at, Data: 1},
		{TenantID: other.ID, Type: store.EventInvoicePaid, ContractID: contract, At: at, Data: 1},
	})
	require.Error(t, err, "one transaction's events are one tenant's")
	events, _, err = st.Events(ctx, tenant.ID, store.EventFilter{PageSize: 10})
	require.NoError(t, err)
	assert.Len(t, events, 4, "nothing of a refused batch is written")
}
