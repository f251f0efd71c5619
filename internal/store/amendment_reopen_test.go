package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// An amendment opened again by the request that opened it (a retry, or its
// workflow started again) is the one recorded; opened again by another
// request with its id (one Idempotency-Key, another body) it is refused, and
// the first stays as it was.
func TestAnAmendmentOpenedAgainByAnotherRequestIsRefused(t *testing.T) {
	st, id, sc := oneContract(t)
	now := time.Now()
	amendmentID := uuid.NewString()
	open := func(seats int64, hash string) (store.Opened, error) {
		change := seatChange(t, id, seats, domain.Date{})
		return st.OpenAmendment(context.Background(), store.NewAmendment{
			ID: amendmentID, TenantID: sc.TenantID, ContractID: id, Action: change.Action, Request: []byte(`{}`),
			RequestHash: hash, IdempotencyKey: "seats", WorkflowID: "amendment-" + amendmentID, ActorID: tester, Source: "API", Change: change,
		}, now, func(b store.PlanBasis) (store.Plan, error) {
			q, err := domain.PlanOnTimeline(domain.Preflight{Catalog: &b.Catalog, Contract: b.Contract, Change: change, Today: domain.DateOf(now)}, b.Timeline)
			return store.Plan{Quote: q, Status: domain.StatusPending}, err
		})
	}
	first, err := open(8, "first-body")
	require.NoError(t, err)

	_, err = open(9, "second-body")
	require.ErrorIs(t, err, domain.ErrIdempotencyKeyReused)

	again, err := open(8, "first-body")
	require.NoError(t, err)
	assert.Equal(t, first.Amendment.Quote, again.Amendment.Quote)
	assert.EqualValues(t, 8, again.Amendment.Quote.LinesAfter[0].Products[0].Quantity)
}
