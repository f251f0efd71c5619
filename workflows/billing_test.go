package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/workflows"
)

// billing and pay name the activities the mocks stand in for.
var (
	billing *activities.Billing
	pay     *activities.Payments
)

func billingEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.BillingRunWorkflow)
	env.RegisterWorkflow(workflows.DunningWorkflow)
	env.RegisterWorkflow(workflows.DailyBillingWorkflow)
	// A run counts its contracts first, for its progress.
	env.OnActivity(billing.CountBillingContracts, mock.Anything, mock.Anything).Return(0, nil).Maybe()
	return env
}

var (
	// Tests start on dueDate: not in the past, as the test environment gives
	// local activities deadlines from its own clock but checks them by the wall
	// clock.
	dueDate     = domain.DateOf(time.Now()).AddDays(1)
	collectable = flow.CollectionPlan{Collect: true, PaymentMethod: "pm_test", Amount: 3500, Currency: "USD"}
	declined    = temporal.NewNonRetryableApplicationError("the payment was declined: insufficient funds", string(payments.CodeDeclined), nil)
)

func invoice(id string) flow.InvoiceRef {
	return flow.InvoiceRef{TenantID: "tenant-1", ContractID: "contract-" + id, InvoiceID: "invoice-" + id, DueDate: dueDate}
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

func TestDunningRetriesOnTheScheduleThenMarksArrears(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	inv := invoice("1")
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(collectable, nil).Times(3)
	auths := &authorisations{env: env}
	auths.mock(func(int) (payments.Authorisation, error) { return payments.Authorisation{}, declined })
	for attempt := 1; attempt <= 3; attempt++ {
		env.OnActivity(billing.RecordCollection, mock.Anything, withOutcome(attempt, domain.CollectionDeclined)).Return(nil).Once()
	}
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, inv)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []time.Time{
		dueDate.AddDays(1).Time(), dueDate.AddDays(3).Time(), dueDate.AddDays(7).Time(),
	}, auths.at, "retries 1, 3 and 7 days after the due date")
	assert.Equal(t, []string{
		"invoice/invoice-1/attempt/1/authorise", "invoice/invoice-1/attempt/2/authorise", "invoice/invoice-1/attempt/3/authorise",
	}, auths.keys)
}

func TestDunningEndsWhenARetryIsCollected(t *testing.T) {
	env := billingEnv(t)
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

	env.ExecuteWorkflow(workflows.DunningWorkflow, inv)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Len(t, auths.at, 2)
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

func TestDunningEndsWhenTheScheduleIsCancelled(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time())
	inv := invoice("1")
	env.OnActivity(billing.PrepareCollection, mock.Anything, inv).Return(flow.CollectionPlan{}, nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, inv)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	env.AssertActivityNumberOfCalls(t, "AuthorisePayment", 0)
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

func TestBillingRunCountsOutcomesPagesAndDunsFailures(t *testing.T) {
	env := billingEnv(t)
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
	env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, refused).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 3, Collected: 1, Declined: 1, Skipped: 2}, runBilling(t, env))
}

func TestFailedCaptureVoidsTheAuthorisationAndDuns(t *testing.T) {
	env := billingEnv(t)
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
	env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, inv).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 1, Failed: 1}, runBilling(t, env))
	env.AssertActivityNumberOfCalls(t, "CapturePayment", 6)
}

func TestDailyBillingRunsEveryTenantDespiteAFailure(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(30 * time.Minute))
	env.OnActivity(billing.BillingTenants, mock.Anything).Return([]string{"tenant-1", "tenant-2", "tenant-3"}, nil).Once()
	run := func(tenantID string) any {
		return flow.BillingRunInput{TenantID: tenantID, AsOf: dueDate}
	}
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-1")).Return(flow.BillingTotals{Invoiced: 1}, nil).Once()
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-2")).Return(flow.BillingTotals{}, errors.New("database down")).Once()
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-3")).Return(flow.BillingTotals{Invoiced: 2}, nil).Once()

	env.ExecuteWorkflow(workflows.DailyBillingWorkflow)
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "bill tenant tenant-2"), err.Error())
}

// runBilling runs a billing run for tenant-1 up to dueDate and returns its totals.
func runBilling(t *testing.T, env *testsuite.TestWorkflowEnvironment) flow.BillingTotals {
	t.Helper()
	env.ExecuteWorkflow(workflows.BillingRunWorkflow, flow.BillingRunInput{TenantID: "tenant-1", AsOf: dueDate})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var totals flow.BillingTotals
	require.NoError(t, env.GetWorkflowResult(&totals))
	return totals
}

// A run answers its progress query with the contracts it has checked of
// those it counted, and its totals.
func TestBillingRunShowsItsProgress(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.BillingRunWorkflow)
	env.SetStartTime(dueDate.Time().Add(time.Hour))
	env.OnActivity(billing.CountBillingContracts, mock.Anything, mock.Anything).Return(5, nil).Once()
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool { return in.AfterRef == 0 })).
		Return(flow.InvoicePage{Checked: 3, Skipped: 1, LastRef: 3, More: true}, nil).Once()
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool { return in.AfterRef == 3 })).
		Return(flow.InvoicePage{Checked: 2, Skipped: 2, LastRef: 5}, nil).Once()

	assert.Equal(t, flow.BillingTotals{Skipped: 3}, runBilling(t, env))
	value, err := env.QueryWorkflow(flow.BillingProgressQuery)
	require.NoError(t, err)
	var state flow.BillingRunState
	require.NoError(t, value.Get(&state))
	assert.Equal(t, flow.BillingRunState{
		AsOf: dueDate, BillingTotals: flow.BillingTotals{Skipped: 3},
		BillingRunProgress: flow.BillingRunProgress{Due: 5, Checked: 5, StartedAt: dueDate.Time().Add(time.Hour)},
	}, state)
}
