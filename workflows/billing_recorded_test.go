package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/workflows"
)

// These tests are of runs and dunning recorded before collections were
// batched, which go on collecting an invoice in steps of its own:
// PrepareCollection, then the payment's steps, then RecordCollection.

// recordedBeforeBatching makes env's workflows take the path of those
// recorded before collections were batched.
func recordedBeforeBatching(env *testsuite.TestWorkflowEnvironment) {
	env.OnGetVersion(workflows.BatchedCollection, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}

func withOutcome(attempt int, outcome domain.CollectionOutcome) any {
	return mock.MatchedBy(func(r flow.CollectionResult) bool { return r.Attempt == attempt && r.Outcome == outcome })
}

// authorisations records when each authorisation was asked for, and with
// which key, then answers with answer(n) for the n-th call.
type authorisations struct {
	env  *testsuite.TestWorkflowEnvironment
	at   []time.Time
	keys []string
}

func (a *authorisations) mock(answer func(n int) (payments.Authorisation, error)) {
	a.env.OnActivity(pay.AuthorisePayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.AuthoriseInput) (payments.Authorisation, error) {
			a.at = append(a.at, a.env.Now().UTC())
			a.keys = append(a.keys, in.IdempotencyKey)
			return answer(len(a.at))
		})
}

func TestDunningRetriesOnTheScheduleThenMarksArrearsBeforeBatching(t *testing.T) {
	env := billingEnv(t)
	recordedBeforeBatching(env)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	inv := invoice("1")
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(collectable, nil).Times(3)
	auths := &authorisations{env: env}
	auths.mock(func(int) (payments.Authorisation, error) { return payments.Authorisation{}, declined })
	for attempt := 1; attempt <= 3; attempt++ {
		env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(attempt, domain.CollectionDeclined)).Return(nil).Once()
	}
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []time.Time{
		dueDate.AddDays(1).Time(), dueDate.AddDays(3).Time(), dueDate.AddDays(7).Time(),
	}, auths.at, "retries 1, 3 and 7 days after the due date")
	assert.Equal(t, []string{
		"invoice/invoice-1/attempt/1/authorise", "invoice/invoice-1/attempt/2/authorise", "invoice/invoice-1/attempt/3/authorise",
	}, auths.keys)
}

func TestDunningEndsWhenARetryIsCollectedBeforeBatching(t *testing.T) {
	env := billingEnv(t)
	recordedBeforeBatching(env)
	env.SetStartTime(dueDate.Time())
	inv := invoice("1")
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(collectable, nil)
	auths := &authorisations{env: env}
	auths.mock(func(n int) (payments.Authorisation, error) {
		if n == 1 {
			return payments.Authorisation{}, declined
		}
		return payments.Authorisation{ID: "auth-2", Amount: 3500, Currency: "USD"}, nil
	})
	env.OnActivity(pay.CapturePayment, mock.Anything, flow.CaptureInput{
		IdempotencyKey: "invoice/invoice-1/attempt/2/capture", AuthorisationID: "auth-2", Amount: 3500,
	}).Return(payments.Capture{ID: "cap-2", AuthorisationID: "auth-2", Amount: 3500}, nil).Once()
	env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(1, domain.CollectionDeclined)).Return(nil).Once()
	env.OnActivity(billing.RecordCollection, mock.Anything, mock.MatchedBy(func(r flow.CollectionResult) bool {
		return r.Attempt == 2 && r.Outcome == domain.CollectionSucceeded && r.PaymentID == "cap-2"
	})).Return(nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Len(t, auths.at, 2)
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

func TestDunningEndsWhenTheScheduleIsCancelledBeforeBatching(t *testing.T) {
	env := billingEnv(t)
	recordedBeforeBatching(env)
	env.SetStartTime(dueDate.Time())
	inv := invoice("1")
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(flow.CollectionPlan{}, nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	env.AssertActivityNumberOfCalls(t, "AuthorisePayment", 0)
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

func TestBillingRunCountsOutcomesPagesAndDunsFailuresBeforeBatching(t *testing.T) {
	env := billingEnv(t)
	recordedBeforeBatching(env)
	env.SetStartTime(dueDate.Time().Add(time.Hour))
	ok, refused, cancelled := invoice("ok"), invoice("refused"), invoice("cancelled")
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool {
		return in.AfterRef == 0 && in.TenantID == "tenant-1" && in.AsOf == dueDate
	})).Return(flow.InvoicePage{Invoiced: 2, Skipped: 1, Collect: []flow.InvoiceRef{ok, refused}, LastRef: 10, More: true}, nil).Once()
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool {
		return in.AfterRef == 10
	})).Return(flow.InvoicePage{Invoiced: 1, Collect: []flow.InvoiceRef{cancelled}, LastRef: 11}, nil).Once()

	env.OnActivity(billing.PrepareCollection, mock.Anything, ok).Return(flow.CollectionPlan{Collect: true, PaymentMethod: "pm_ok", Amount: 100, Currency: "USD"}, nil)
	env.OnActivity(billing.PrepareCollection, mock.Anything, refused).Return(flow.CollectionPlan{Collect: true, PaymentMethod: "pm_declined", Amount: 100, Currency: "USD"}, nil)
	env.OnActivity(billing.PrepareCollection, mock.Anything, cancelled).Return(flow.CollectionPlan{}, nil)
	env.OnActivity(pay.AuthorisePayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.AuthoriseInput) (payments.Authorisation, error) {
			if in.Request.PaymentMethod == "pm_declined" {
				return payments.Authorisation{}, declined
			}
			return payments.Authorisation{ID: "auth-ok", Amount: 100, Currency: "USD"}, nil
		})
	env.OnActivity(pay.CapturePayment, mock.Anything, mock.Anything).Return(payments.Capture{ID: "cap-ok"}, nil).Once()
	env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(0, domain.CollectionSucceeded)).Return(nil).Once()
	env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(0, domain.CollectionDeclined)).Return(nil).Once()
	env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: refused}).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 3, Collected: 1, Declined: 1, Skipped: 2}, runBilling(t, env))
}

func TestFailedCaptureVoidsTheAuthorisationAndDunsBeforeBatching(t *testing.T) {
	env := billingEnv(t)
	recordedBeforeBatching(env)
	env.SetStartTime(dueDate.Time().Add(time.Hour))
	inv := invoice("1")
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.Anything).
		Return(flow.InvoicePage{Invoiced: 1, Collect: []flow.InvoiceRef{inv}}, nil).Once()
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(collectable, nil).Once()
	env.OnActivity(pay.AuthorisePayment, mock.Anything, mock.Anything).Return(payments.Authorisation{ID: "auth-1", Amount: 3500}, nil).Once()
	// The provider stays down through every retry of the capture.
	env.OnActivity(pay.CapturePayment, mock.Anything, mock.Anything).Return(payments.Capture{}, errors.New("capture payment: unavailable"))
	env.OnActivity(pay.VoidPayment, mock.Anything, flow.VoidInput{
		IdempotencyKey: "invoice/invoice-1/attempt/0/void", AuthorisationID: "auth-1",
	}).Return(payments.Void{ID: "void-1", AuthorisationID: "auth-1"}, nil).Once()
	env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(0, domain.CollectionFailed)).Return(nil).Once()
	env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: inv}).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 1, Failed: 1}, runBilling(t, env))
	env.AssertActivityNumberOfCalls(t, "CapturePayment", 6)
}
