package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// An invoice billed late (a back-dated contract's first periods, or those
// a run missed) is due months before its first collection. Its retries are
// counted from the day that collection was declined, when its dunning
// began, not from its due date: from the due date every retry was in the
// past, the three were made back to back within a second and the schedule
// was in arrears on the dunning's first day (hostile probe).

// lateInvoice is invoice 1, due ninety days before dueDate, the day it was
// first collected and declined.
func lateInvoice() flow.InvoiceRef {
	inv := invoice("1")
	inv.DueDate = dueDate.AddDays(-90)
	return inv
}

// markedInArrears mocks MarkInArrears of inv, once, and returns when it was
// called, on the test's time.
func markedInArrears(env *testsuite.TestWorkflowEnvironment, inv flow.InvoiceRef) *time.Time {
	var at time.Time
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(func(context.Context, flow.InvoiceRef) error {
		at = env.Now().UTC()
		return nil
	}).Once()
	return &at
}

func TestALateBilledInvoicesRetriesAreSpacedFromTheDayItsDunningBegan(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	inv := lateInvoice()
	tried := collecting(env, always(domain.CollectionDeclined))
	arrears := markedInArrears(env, inv)

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv, Began: dueDate})
	requireCompleted(t, env)
	assert.Equal(t, []int{1, 2, 3}, tried.attempts())
	assert.Equal(t, []time.Time{
		dueDate.AddDays(1).Time(), dueDate.AddDays(3).Time(), dueDate.AddDays(7).Time(),
	}, tried.at, "retries 1, 3 and 7 days after the first collection was declined")
	assert.Equal(t, dueDate.AddDays(7).Time(), *arrears, "in arrears once the last retry failed, a week on, not on the first day")
}

// A late-billed invoice's dunning resumed by a restart of its schedule
// keeps the plan counted from the day it began: a retry whose day is still
// to come is made on that day, not at once.
func TestAResumedLateDunningKeepsThePlanFromTheDayItBegan(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.AddDays(2).Time())
	inv := lateInvoice()
	tried := collecting(env, always(domain.CollectionDeclined))
	markedInArrears(env, inv)

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{
		InvoiceRef: inv, Began: dueDate, Resume: &flow.DunningResume{Attempt: 2, On: dueDate.AddDays(2)},
	})
	requireCompleted(t, env)
	assert.Equal(t, []int{2, 3}, tried.attempts())
	assert.Equal(t, []time.Time{dueDate.AddDays(3).Time(), dueDate.AddDays(7).Time()}, tried.at)
}

// A dunning that a worker of the release before ran, which read no Began,
// made its retries from the due date, at once here; today's code replays
// it so (it asks lateDunning's version, which such a history lacks).
func TestALateDunningRunBeforeTheChangeKeepsTheDueDatePlan(t *testing.T) {
	env := billingEnv(t)
	env.OnGetVersion(workflows.LateDunning, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	start := dueDate.Time().Add(2 * time.Hour)
	env.SetStartTime(start)
	inv := lateInvoice()
	tried := collecting(env, always(domain.CollectionDeclined))
	markedInArrears(env, inv)

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv, Began: dueDate})
	requireCompleted(t, env)
	assert.Equal(t, []time.Time{start, start, start}, tried.at, "every retry's day long past")
}

// On a test clock the late invoice's retries wait for the clock to reach
// the days 1, 3 and 7 after the one its first collection was declined on.
func TestALateBilledInvoiceOnATestClockRetriesFromTheDayItsDunningBegan(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	clock := onTestClock(t, env, clockDue.Time().Add(30*time.Minute))
	inv := clockedInvoice()
	inv.DueDate = clockDue.AddDays(-90)
	tried := &attempts{}
	tried.mock(env, clock, inv, alwaysDeclined)
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()
	var before []int // attempts made before each advance
	every(env, []time.Duration{month, 2 * month, 3 * month}, func(i int) {
		before = append(before, len(tried.number))
		clock.advance(day(domain.DunningDays[i]))
	})

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv, Began: clockDue})
	requireCompleted(t, env)
	assert.Equal(t, []int{0, 1, 2}, before, "each retry waited for the clock")
	assert.Equal(t, []int{1, 2, 3}, tried.number)
	assert.Equal(t, []time.Time{day(1), day(3), day(7)}, tried.at)
	assert.Equal(t, []time.Time{day(1), day(3), day(7)}, clock.waits)
}

// A billing run starts the dunning of an invoice it first collected after
// its due date with the day it did (the batch's time, on the invoices'
// clock); an invoice collected on its due date starts as before, its
// input the invoice alone.
func TestABillingRunDunsALateInvoiceFromTheDayItWasDeclined(t *testing.T) {
	for _, clocked := range []bool{false, true} {
		env := billingEnv(t)
		env.SetStartTime(dueDate.Time().Add(time.Hour))
		late, onTime := lateInvoice(), invoice("2")
		tried := dueDate.Time().Add(30 * time.Minute)
		if clocked {
			late.TestClockID, onTime.TestClockID = clockID, clockID
			late.DueDate, onTime.DueDate = clockDue.AddDays(-90), clockDue
			tried = clockDue.Time().Add(30 * time.Minute)
		}
		env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.Anything).
			Return(flow.InvoicePage{Invoiced: 2, Refs: flow.InvoiceRefs{late, onTime}}, nil).Once()
		env.OnActivity(collections.CollectInvoices, mock.Anything, mock.Anything).Return(flow.CollectedInvoices{
			Outcomes: []domain.CollectionOutcome{domain.CollectionDeclined, domain.CollectionDeclined}, At: tried,
		}, nil).Once()
		began := domain.DateOf(tried)
		if clocked {
			env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: late, Began: began}).Return(nil).Once()
			env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: onTime}).Return(nil).Once()
		} else {
			env.OnActivity(dunning.StartDunning, mock.Anything, flow.StartDunningInput{
				Invoices: flow.InvoiceRefs{late, onTime}, Began: map[string]domain.Date{late.InvoiceID: began},
			}).Return(nil).Once()
		}

		env.ExecuteWorkflow(workflows.BillingRunWorkflow, flow.BillingRunInput{TenantID: "tenant-1", AsOf: dueDate, TestClockID: late.TestClockID})
		requireCompleted(t, env)
		env.AssertExpectations(t)
	}
}
