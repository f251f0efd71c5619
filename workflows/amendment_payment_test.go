package workflows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
)

var provider *activities.Payments

// A crossgrade paid up front whose timeline re-priced it while its apply
// waited its turn (the change before it was withdrawn, say) is refused by
// the apply (flow.PaymentChanged, nothing applied): its workflow voids the
// authorisation it held, authorises the amount now due under keys of its
// own, applies, and captures that amount, which is what the applied
// amendment's invoice asks. Before, the apply went ahead and the first
// amount was captured against an invoice asking another.
func TestAPaymentRepricedWhileWaitingItsTurnIsAuthorisedAgain(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(paidUpFront(domain.StatusPending, 0, 5000), nil)
	authorise := func(key string, amount int64, auth string) {
		env.OnActivity(provider.AuthorisePayment, mock.Anything, flow.AuthoriseInput{
			IdempotencyKey: key, Request: payments.AuthoriseRequest{PaymentMethod: "pm_card", Amount: amount, Currency: "USD"},
		}).Return(payments.Authorisation{ID: auth, Amount: amount, Currency: "USD"}, nil).Once()
	}
	authorise("amendment/am-1/authorise", 5000, "auth-1")
	authorise("amendment/am-1/repriced-1/authorise", 7000, "auth-2")
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool { return in.Authorised == 5000 })).
		Return(flow.Applied{}, temporal.NewApplicationError("amendment am-1 is to be paid 7000 up front, not the 5000 authorised", flow.PaymentChanged, int64(7000))).Once()
	done := applied()
	done.Amendment.Quote.Crossgrade = &domain.CrossgradeQuote{Upgrade: true, PaymentAmount: 7000}
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.MatchedBy(func(in flow.ApplyAmendmentInput) bool { return in.Authorised == 7000 })).
		Return(done, nil).Once()
	env.OnActivity(provider.VoidPayment, mock.Anything, flow.VoidInput{IdempotencyKey: "amendment/am-1/void", AuthorisationID: "auth-1"}).
		Return(payments.Void{ID: "void-1", AuthorisationID: "auth-1"}, nil).Once()
	env.OnActivity(provider.CapturePayment, mock.Anything, flow.CaptureInput{IdempotencyKey: "amendment/am-1/repriced-1/capture", AuthorisationID: "auth-2", Amount: 7000}).
		Return(payments.Capture{ID: "cap-2", AuthorisationID: "auth-2", Amount: 7000}, nil).Once()
	var settled []int64
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		if c := args.Get(1).(flow.EventInput).Capture; c != nil {
			settled = append(settled, c.Amount)
		}
	}).Return(nil)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ApplyImmediately: true})

	assert.Equal(t, domain.StatusApplied, outcome(t, env).Amendment.Status)
	assert.Equal(t, []int64{7000}, settled, "the invoice is settled with the amount it asks, once")
}

// paidUpFront is an amendment opened with status, due after wait, to be
// paid amount up front with the contract's card.
func paidUpFront(status string, wait time.Duration, amount int64) flow.OpenAmendmentResult {
	r := opened(status, wait)
	r.Amendment.Quote.Crossgrade = &domain.CrossgradeQuote{Upgrade: true, PaymentAmount: amount}
	r.Contract.PaymentMethod, r.Contract.Currency = "pm_card", "USD"
	return r
}

// authorisesAsAsked is a provider that authorises what it is asked, and
// voids what it is told to; it counts the authorisations.
func authorisesAsAsked(env *testsuite.TestWorkflowEnvironment, authorised *int) {
	env.OnActivity(provider.AuthorisePayment, mock.Anything, mock.Anything).Return(func(_ context.Context, in flow.AuthoriseInput) (payments.Authorisation, error) {
		*authorised++
		return payments.Authorisation{ID: in.IdempotencyKey, Amount: in.Request.Amount, Currency: "USD"}, nil
	})
	env.OnActivity(provider.VoidPayment, mock.Anything, mock.Anything).Return(payments.Void{ID: "void"}, nil)
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
}

// withdrawnAt has the submitter withdraw the amendment at after, and
// expects it recorded WITHDRAWN.
func withdrawnAt(t *testing.T, env *testsuite.TestWorkflowEnvironment, after time.Duration) {
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool { return in.To == domain.StatusWithdrawn })).
		Return(moved(domain.StatusWithdrawn), nil).Once()
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "withdraw", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("withdrawal refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, flow.Actor{ID: "submitter-1", Source: "USER"})
	}, after)
}

// repriced is an apply refused because the payment due is now due.
func repriced(due int64) error {
	return temporal.NewApplicationError(fmt.Sprintf("amendment am-1 is to be paid %d up front", due), flow.PaymentChanged, due)
}

// A withdrawal taken while the workflow releases the authorisation of a
// re-priced payment ends the amendment there: WITHDRAWN, nothing
// authorised again, nothing applied.
func TestAWithdrawalWhileAPaymentIsAuthorisedAgainWithdraws(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(paidUpFront(domain.StatusScheduled, time.Hour, 5000), nil)
	// The void takes a minute: the withdrawal comes meanwhile.
	env.OnActivity(provider.VoidPayment, mock.Anything, mock.Anything).After(time.Minute).Return(payments.Void{ID: "void"}, nil).Once()
	var authorisations int
	authorisesAsAsked(env, &authorisations)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(flow.Applied{}, repriced(7000)).Once()
	withdrawnAt(t, env, time.Hour+30*time.Second)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	assert.Equal(t, 1, authorisations, "not authorised again")
}

// A payment that keeps being re-priced is authorised at most
// maxPaymentRounds times; then the amendment fails, with every
// authorisation released.
func TestAPaymentThatKeepsChangingFailsTheAmendment(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(paidUpFront(domain.StatusPending, 0, 5000), nil)
	var authorisations, applies int
	authorisesAsAsked(env, &authorisations)
	env.OnActivity(acts.ApplyAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.ApplyAmendmentInput) (flow.Applied, error) {
		applies++
		return flow.Applied{}, repriced(int64(5000 + applies))
	})
	var note string
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool { return in.To == domain.StatusFailed })).
		Run(func(args mock.Arguments) { note = *args.Get(1).(flow.TransitionInput).Note }).Return(moved(domain.StatusFailed), nil).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ApplyImmediately: true})

	assert.Equal(t, domain.StatusFailed, outcome(t, env).Amendment.Status)
	assert.Equal(t, maxPaymentRounds, authorisations)
	assert.Contains(t, note, "changed 5 times")
	env.AssertNumberOfCalls(t, "VoidPayment", maxPaymentRounds)
}

// A provider that authorises another amount than asked (a partial
// authorisation) does not get that amount captured: the authorisation is
// released and the amendment fails, unapplied.
func TestAnAuthorisationOfAnotherAmountIsReleased(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(paidUpFront(domain.StatusPending, 0, 5000), nil)
	env.OnActivity(provider.AuthorisePayment, mock.Anything, mock.Anything).Return(payments.Authorisation{ID: "auth-1", Amount: 4000, Currency: "USD"}, nil).Once()
	env.OnActivity(provider.VoidPayment, mock.Anything, flow.VoidInput{IdempotencyKey: "amendment/am-1/void", AuthorisationID: "auth-1"}).
		Return(payments.Void{ID: "void-1"}, nil).Once()
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(acts.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool { return in.To == domain.StatusFailed })).
		Return(moved(domain.StatusFailed), nil).Once()

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ApplyImmediately: true})

	out := outcome(t, env)
	assert.Equal(t, domain.StatusFailed, out.Amendment.Status)
	assert.Equal(t, domain.FaultPaymentSystem, out.ErrorFault)
	assert.Contains(t, out.ErrorMessage, "authorised 4000, not the 5000 asked")
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

// A withdrawal taken while the up-front payment is being authorised ends
// the amendment before its apply: WITHDRAWN, the authorisation released,
// nothing applied or captured.
func TestAWithdrawalWhileThePaymentIsAuthorisedWithdraws(t *testing.T) {
	env := amendmentEnv(t)
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(paidUpFront(domain.StatusScheduled, time.Hour, 5000), nil)
	// The authorisation takes a minute: the withdrawal comes meanwhile.
	env.OnActivity(provider.AuthorisePayment, mock.Anything, mock.Anything).After(time.Minute).
		Return(payments.Authorisation{ID: "auth-1", Amount: 5000, Currency: "USD"}, nil).Once()
	env.OnActivity(provider.VoidPayment, mock.Anything, flow.VoidInput{IdempotencyKey: "amendment/am-1/void", AuthorisationID: "auth-1"}).
		Return(payments.Void{ID: "void-1"}, nil).Once()
	env.OnActivity(acts.RecordAmendmentEvent, mock.Anything, mock.Anything).Return(nil)
	withdrawnAt(t, env, time.Hour+30*time.Second)

	env.ExecuteWorkflow(AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1", ActorID: "submitter-1"})

	assert.Equal(t, domain.StatusWithdrawn, outcome(t, env).Amendment.Status)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
	env.AssertNotCalled(t, "CapturePayment", mock.Anything, mock.Anything)
}
