package workflows

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

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
	first := opened(domain.StatusPending, 0)
	first.Amendment.Quote.Crossgrade = &domain.CrossgradeQuote{Upgrade: true, PaymentAmount: 5000}
	first.Contract.PaymentMethod, first.Contract.Currency = "pm_card", "USD"
	env.OnActivity(acts.OpenAmendment, mock.Anything, mock.Anything).Return(first, nil)
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
