package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Two changes due today on one contract, accepted in turn: the second's
// apply is refused while the first is open, and the first's apply, which
// leaves the second's quote as it was, marks the second for its workflow
// to be told, so that it tries again at once. Unmarked, its workflow would
// try again only on its next recheck, up to 30 s later: a probe approving
// three held changes on one contract at once saw the third applied 6 s
// after its approval.
func TestTheNextChangeInLineIsToldWhenTheOneBeforeItApplies(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	now := time.Now()
	first, second := openSeatChange(t, st, sc, id, 8, now), openSeatChange(t, st, sc, id, 9, now)
	assert.Empty(t, toldOf(t, st, sc.TenantID, id), "opening re-prices nothing, and tells no one")

	_, err := st.ApplyAmendment(ctx, sc.TenantID, second.ID, tester, "API", 0, now)
	require.ErrorIs(t, err, store.ErrNotYourTurn)
	applied, err := st.ApplyAmendment(ctx, sc.TenantID, first.ID, tester, "API", 0, now)
	require.NoError(t, err)
	assert.True(t, applied.Rebased, "the first's apply has a workflow to tell")
	assert.Equal(t, []string{second.WorkflowID}, toldOf(t, st, sc.TenantID, id))

	again, err := st.ApplyAmendment(ctx, sc.TenantID, second.ID, tester, "API", 0, now)
	require.NoError(t, err)
	assert.Equal(t, domain.StatusApplied, again.Amendment.Status)
	assert.Equal(t, second.Quote.LinesAfter, again.Amendment.Quote.LinesAfter, "not re-priced on its way")
	assert.Empty(t, toldOf(t, st, sc.TenantID, id), "applied, it has nothing left to read")
}

// An apply whose caller holds another up-front payment than the
// amendment's quote asks is refused, naming the amount due, and applies
// nothing: its invoice would be settled with the wrong amount. (A seat
// change is paid with the next bill, nothing up front.)
func TestAnApplyHoldingAnotherPaymentThanItsQuoteAsksIsRefused(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	now := time.Now()
	am := openSeatChange(t, st, sc, id, 8, now)

	_, err := st.ApplyAmendment(ctx, sc.TenantID, am.ID, tester, "API", 5000, now)
	var changed *store.PaymentChangedError
	require.ErrorAs(t, err, &changed)
	assert.Equal(t, store.PaymentChangedError{ID: am.ID, Due: 0, Authorised: 5000}, *changed)
	ct, err := st.Contract(ctx, sc, id)
	require.NoError(t, err)
	assert.EqualValues(t, 1, ct.Version, "nothing applied")

	applied, err := st.ApplyAmendment(ctx, sc.TenantID, am.ID, tester, "API", 0, now)
	require.NoError(t, err)
	assert.Equal(t, domain.StatusApplied, applied.Amendment.Status)
}

// An amendment authorised twice (its payment priced again while it waited
// its turn) records each payment step of each authorisation, once however
// often the step is recorded; a decision is still recorded once.
func TestEachAuthorisationsPaymentStepsAreRecordedOnce(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	am := openSeatChange(t, st, sc, id, 8, time.Now())
	steps := []struct{ status, note string }{
		{flow.EventPaymentAuthorised, "auth-1 5000 USD"}, {flow.EventPaymentVoided, "void-1 5000 USD"},
		{flow.EventPaymentAuthorised, "auth-2 7000 USD"}, {flow.EventPaymentAuthorised, "auth-2 7000 USD"},
		{flow.EventPaymentCaptured, "cap-2 7000 USD"}, {flow.EventPaymentCaptured, "cap-2 7000 USD"},
		{flow.EventApproved, "first"}, {flow.EventApproved, "second"},
	}
	for _, step := range steps {
		require.NoError(t, st.RecordEvent(ctx, sc.TenantID, am.ID, domain.AmendmentEvent{
			Status: step.status, ActorID: "payments", Source: "SYSTEM", Note: &step.note, At: time.Now(),
		}))
	}

	got, err := st.Amendment(ctx, sc, am.ID)
	require.NoError(t, err)
	var recorded []string
	for _, e := range got.History[1:] { // after PENDING
		recorded = append(recorded, e.Status+" "+*e.Note)
	}
	assert.Equal(t, []string{
		"PAYMENT_AUTHORISED auth-1 5000 USD", "PAYMENT_VOIDED void-1 5000 USD", "PAYMENT_AUTHORISED auth-2 7000 USD",
		"PAYMENT_CAPTURED cap-2 7000 USD", "APPROVED first",
	}, recorded)
}

// tester is the actor of the changes and their applies.
var tester = uuid.NewString()

// openSeatChange records a change to n seats on contract id, due today and
// accepted (PENDING), without applying it.
func openSeatChange(t *testing.T, st *store.Store, sc store.Scope, id string, n int64, now time.Time) domain.Amendment {
	t.Helper()
	change := seatChange(t, id, n, domain.Date{})
	amendmentID := uuid.NewString()
	opened, err := st.OpenAmendment(context.Background(), store.NewAmendment{
		ID: amendmentID, TenantID: sc.TenantID, ContractID: id, Action: change.Action, Request: []byte(`{}`),
		WorkflowID: "amendment-" + amendmentID, ActorID: tester, Source: "API", Change: change,
	}, now, func(b store.PlanBasis) (store.Plan, error) {
		q, err := domain.PlanOnTimeline(domain.Preflight{Catalog: &b.Catalog, Contract: b.Contract, Change: change, Today: domain.DateOf(now)}, b.Timeline)
		return store.Plan{Quote: q, Status: domain.StatusPending}, err
	})
	require.NoError(t, err)
	require.Equal(t, domain.StatusPending, opened.Amendment.Status)
	return opened.Amendment
}

// seatChange is a change of contract id to n seats, on effective (today
// when zero), as a client would send it.
func seatChange(t *testing.T, id string, n int64, effective domain.Date) domain.Change {
	t.Helper()
	dated := ""
	if !effective.IsZero() {
		dated = fmt.Sprintf(`"effectiveDate": %q, `, effective)
	}
	var change domain.Change
	require.NoError(t, json.Unmarshal(fmt.Appendf(nil, `{"action": "QUANTITY_CHANGE", "contractId": %q, %s"payload": {"offerings": [
		{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": %d}]}]}}`, id, dated, n), &change))
	return change
}

// toldOf is the workflows TellRebased tells of the contract's amendments.
func toldOf(t *testing.T, st *store.Store, tenantID, contractID string) []string {
	t.Helper()
	var told []string
	require.NoError(t, st.TellRebased(context.Background(), tenantID, contractID, func(_ context.Context, workflowID string) (bool, error) {
		told = append(told, workflowID)
		return true, nil
	}))
	return told
}

// A workflow that has read its amendment since the re-pricing that marked
// it is not told again: of changes to one contract at once, each tells the
// marks it listed, and the first to reach a workflow makes it read. Here,
// telling either of two marked amendments makes both read theirs (as other
// tellers would have), so the other is passed over.
func TestAMarkClearedSinceItWasListedIsNotToldAgain(t *testing.T) {
	ctx := context.Background()
	st, id, sc := oneContract(t)
	now := time.Now()
	first := openSeatChange(t, st, sc, id, 8, now)
	marked := []domain.Amendment{openSeatChange(t, st, sc, id, 9, now), openSeatChange(t, st, sc, id, 10, now)}
	_, _, err := st.Transition(ctx, sc.TenantID, first.ID, []string{domain.StatusPending},
		domain.AmendmentEvent{Status: domain.StatusWithdrawn, ActorID: tester, Source: "API", At: now})
	require.NoError(t, err)
	require.Len(t, toldOf(t, st, sc.TenantID, id), 2, "both are marked")

	var told []string
	require.NoError(t, st.TellRebased(ctx, sc.TenantID, id, func(_ context.Context, workflowID string) (bool, error) {
		told = append(told, workflowID)
		for _, am := range marked {
			_, err := st.SyncAmendment(ctx, sc.TenantID, am.ID)
			require.NoError(t, err)
		}
		return true, nil
	}))
	assert.Len(t, told, 1, "the second mark was cleared before its turn")
}
