package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/workflows"
)

// billing, pay and dunning name the activities the mocks stand in for.
var (
	billing *activities.Billing
	pay     *activities.Payments
	dunning *activities.Dunning
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

// collections names the batched collection activity the mocks stand in for.
var collections *activities.Collections

// collected mocks CollectInvoices: answer says how attempt number attempt on
// an invoice ends; every batch is recorded in order, with the test's time.
// The test environment runs concurrent activities in their own goroutines,
// hence the lock.
type collected struct {
	mu      sync.Mutex
	env     *testsuite.TestWorkflowEnvironment
	batches []flow.CollectInvoicesInput
	at      []time.Time
}

func collecting(env *testsuite.TestWorkflowEnvironment, answer func(inv flow.InvoiceRef, attempt int) domain.CollectionOutcome) *collected {
	c := &collected{env: env}
	env.OnActivity(collections.CollectInvoices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.CollectInvoicesInput) (flow.CollectedInvoices, error) {
			c.mu.Lock()
			c.batches, c.at = append(c.batches, in), append(c.at, env.Now().UTC())
			c.mu.Unlock()
			out := flow.CollectedInvoices{}
			for _, inv := range in.Invoices {
				out.Outcomes = append(out.Outcomes, answer(inv, in.Attempt))
			}
			return out, nil
		})
	return c
}

// attempts lists the attempt numbers of the batches collected.
func (c *collected) attempts() []int {
	var out []int
	for _, b := range c.batches {
		out = append(out, b.Attempt)
	}
	return out
}

func always(o domain.CollectionOutcome) func(flow.InvoiceRef, int) domain.CollectionOutcome {
	return func(flow.InvoiceRef, int) domain.CollectionOutcome { return o }
}

func TestDunningRetriesOnTheScheduleThenMarksArrears(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	inv := invoice("1")
	tried := collecting(env, always(domain.CollectionDeclined))
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})
	requireCompleted(t, env)
	assert.Equal(t, []time.Time{
		dueDate.AddDays(1).Time(), dueDate.AddDays(3).Time(), dueDate.AddDays(7).Time(),
	}, tried.at, "retries 1, 3 and 7 days after the due date")
	assert.Equal(t, []int{1, 2, 3}, tried.attempts())
	for _, b := range tried.batches {
		assert.Equal(t, flow.InvoiceRefs{inv}, b.Invoices, "a retry is a batch of its invoice")
		assert.Equal(t, inv.TenantID, b.TenantID)
	}
}

func TestDunningEndsWhenARetryIsCollected(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time())
	tried := collecting(env, func(_ flow.InvoiceRef, attempt int) domain.CollectionOutcome {
		if attempt == 1 {
			return domain.CollectionDeclined
		}
		return domain.CollectionSucceeded
	})

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: invoice("1")})
	requireCompleted(t, env)
	assert.Equal(t, []int{1, 2}, tried.attempts())
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

func TestDunningEndsWhenTheScheduleIsCancelled(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time())
	tried := collecting(env, always(domain.CollectionSkipped))

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: invoice("1")})
	requireCompleted(t, env)
	assert.Equal(t, []int{1}, tried.attempts())
	env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
}

// resumed is the dunning of invoice 1 a restart resumes from attempt on
// the day days after its due date.
func resumed(attempt, days int) flow.DunningInput {
	return flow.DunningInput{InvoiceRef: invoice("1"), Resume: &flow.DunningResume{Attempt: attempt, On: dueDate.AddDays(days)}}
}

// A restart resumes a dunning from its next attempt: a retry whose day has
// passed at once and the rest at the plan's spacing from it, a retry whose
// day is still to come on that day, and an invoice whose retries have all
// been made once more, on the restart's day. Each ends in arrears.
func TestAResumedDunningMakesTheRetriesLeftThenMarksArrears(t *testing.T) {
	for _, c := range []struct {
		name     string
		in       flow.DunningInput
		attempts []int
		days     []int
	}{
		{"retries skipped", resumed(2, 9), []int{2, 3}, []int{9, 13}},
		{"the next retry still to come", resumed(2, 2), []int{2, 3}, []int{3, 7}},
		{"every retry made", resumed(4, 9), []int{4}, []int{9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := billingEnv(t)
			env.SetStartTime(dueDate.AddDays(c.days[0]).Time())
			tried := collecting(env, always(domain.CollectionDeclined))
			env.OnActivity(billing.MarkInArrears, mock.Anything, c.in.InvoiceRef).Return(nil).Once()

			env.ExecuteWorkflow(workflows.DunningWorkflow, c.in)
			requireCompleted(t, env)
			assert.Equal(t, c.attempts, tried.attempts())
			var at []time.Time
			for _, d := range c.days {
				at = append(at, dueDate.AddDays(d).Time())
			}
			assert.Equal(t, at, tried.at)
		})
	}
}

// A retry that finds nothing to collect ends the dunning, unless the
// schedule was restarted meanwhile: the latest resume that names the
// skipped attempt or a later one carries it on; one sent before the
// attempts since were made (it names an earlier one) does not.
func TestASkippedRetryTakesUpAResumeSentSinceAndIgnoresAnOlderOne(t *testing.T) {
	for _, c := range []struct {
		name     string
		resume   flow.DunningResume
		attempts []int
		arrears  bool
	}{
		{"resumed", flow.DunningResume{Attempt: 2, On: dueDate.AddDays(5)}, []int{1, 2, 2, 3}, true},
		{"an older resume", flow.DunningResume{Attempt: 1, On: dueDate}, []int{1, 2}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := billingEnv(t)
			env.SetStartTime(dueDate.Time())
			skips := 1
			tried := collecting(env, func(_ flow.InvoiceRef, attempt int) domain.CollectionOutcome {
				if attempt == 2 && skips > 0 {
					skips--
					return domain.CollectionSkipped
				}
				return domain.CollectionDeclined
			})
			if c.arrears {
				env.OnActivity(billing.MarkInArrears, mock.Anything, invoice("1")).Return(nil).Once()
			}
			env.RegisterDelayedCallback(func() {
				env.SignalWorkflow(flow.DunningResumeSignal, c.resume)
			}, 2*24*time.Hour)

			env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: invoice("1")})
			requireCompleted(t, env)
			assert.Equal(t, c.attempts, tried.attempts())
			if c.arrears {
				assert.Equal(t, []time.Time{dueDate.AddDays(1).Time(), dueDate.AddDays(3).Time(), dueDate.AddDays(5).Time(), dueDate.AddDays(9).Time()},
					tried.at, "the skipped retry on the restart's day, the last four days after it")
			} else {
				env.AssertActivityNumberOfCalls(t, "MarkInArrears", 0)
			}
		})
	}
}

// The pages here are answered in Collect, as a worker of a release before
// InvoicePageInput.CompactRefs answers whatever the run asked.
func TestBillingRunCountsOutcomesPagesAndDunsFailures(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(time.Hour))
	ok, refused, down, cancelled := invoice("ok"), invoice("refused"), invoice("down"), invoice("cancelled")
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool {
		return in.AfterRef == 0 && in.TenantID == "tenant-1" && in.AsOf == dueDate
	})).Return(flow.InvoicePage{Checked: 3, Invoiced: 3, Skipped: 1, Collect: []flow.InvoiceRef{ok, refused, down}, LastRef: 10, More: true}, nil).Once()
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool {
		return in.AfterRef == 10
	})).Return(flow.InvoicePage{Checked: 1, Invoiced: 1, Collect: []flow.InvoiceRef{cancelled}, LastRef: 11}, nil).Once()
	outcomes := map[flow.InvoiceRef]domain.CollectionOutcome{
		ok: domain.CollectionSucceeded, refused: domain.CollectionDeclined, down: domain.CollectionFailed, cancelled: domain.CollectionSkipped,
	}
	tried := collecting(env, func(inv flow.InvoiceRef, _ int) domain.CollectionOutcome { return outcomes[inv] })
	// The page's two unsuccessful invoices are dunned, started together.
	env.OnActivity(dunning.StartDunning, mock.Anything, flow.StartDunningInput{Invoices: []flow.InvoiceRef{refused, down}}).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 4, Collected: 1, Declined: 1, Failed: 1, Skipped: 2}, runBilling(t, env))
	require.Len(t, tried.batches, 2, "one batch a page")
	assert.Equal(t, flow.InvoiceRefs{ok, refused, down}, tried.batches[0].Invoices)
	assert.Equal(t, []int{0, 0}, tried.attempts(), "a run makes first attempts")
}

// A page with more invoices than a batch takes is collected in batches,
// and every outcome is counted against its own invoice. The run asks for
// the page's invoices in their compact form.
func TestBillingRunCollectsALargePageInBatches(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(time.Hour))
	var page flow.InvoiceRefs
	for i := range 250 {
		page = append(page, invoice(fmt.Sprint(i)))
	}
	env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.MatchedBy(func(in flow.InvoicePageInput) bool { return in.CompactRefs })).
		Return(flow.InvoicePage{Checked: 250, Invoiced: 250, Refs: page, LastRef: 250}, nil).Once()
	declinedOne := page[201]
	tried := collecting(env, func(inv flow.InvoiceRef, _ int) domain.CollectionOutcome {
		if inv == declinedOne {
			return domain.CollectionDeclined
		}
		return domain.CollectionSucceeded
	})
	env.OnActivity(dunning.StartDunning, mock.Anything, flow.StartDunningInput{Invoices: []flow.InvoiceRef{declinedOne}}).Return(nil).Once()

	assert.Equal(t, flow.BillingTotals{Invoiced: 250, Collected: 249, Declined: 1}, runBilling(t, env))
	var sizes []int
	var all []flow.InvoiceRef
	for _, b := range tried.batches {
		sizes = append(sizes, len(b.Invoices))
		all = append(all, b.Invoices...)
	}
	// The batches are collected at once, in any order.
	assert.ElementsMatch(t, []int{100, 100, 50}, sizes)
	assert.ElementsMatch(t, []flow.InvoiceRef(page), all, "each invoice collected once")
}

func TestDailyBillingRunsEveryTenantDespiteAFailure(t *testing.T) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(30 * time.Minute))
	env.OnActivity(billing.BillingTenants, mock.Anything).Return([]string{"tenant-1", "tenant-2", "tenant-3"}, nil).Once()
	run := func(tenantID string) any {
		return flow.BillingRunInput{TenantID: tenantID, AsOf: dueDate}
	}
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-1")).Return(flow.BillingRunState{BillingTotals: flow.BillingTotals{Invoiced: 1}}, nil).Once()
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-2")).Return(flow.BillingRunState{}, errors.New("database down")).Once()
	env.OnWorkflow(workflows.BillingRunWorkflow, mock.Anything, run("tenant-3")).Return(flow.BillingRunState{BillingTotals: flow.BillingTotals{Invoiced: 2}}, nil).Once()

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

// A declined invoice on a test clock is dunned by a child workflow, which
// registers its wait on the clock at once; one on the wall clock by the
// StartDunning activity, and in runs recorded before that, by a child too.
func TestBillingRunDunsTestClockInvoicesAsChildren(t *testing.T) {
	for _, recorded := range []bool{false, true} {
		env := billingEnv(t)
		if recorded {
			env.OnGetVersion(workflows.DelayedDunning, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		}
		env.SetStartTime(dueDate.Time().Add(time.Hour))
		wall, clocked := invoice("wall"), invoice("clocked")
		clocked.TestClockID = "clock-1"
		env.OnActivity(billing.InvoiceDuePeriods, mock.Anything, mock.Anything).
			Return(flow.InvoicePage{Invoiced: 2, Collect: []flow.InvoiceRef{wall, clocked}}, nil).Once()
		collecting(env, func(flow.InvoiceRef, int) domain.CollectionOutcome { return domain.CollectionDeclined })
		env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: clocked}).Return(nil).Once()
		if recorded {
			env.OnWorkflow(workflows.DunningWorkflow, mock.Anything, flow.DunningInput{InvoiceRef: wall}).Return(nil).Once()
		} else {
			env.OnActivity(dunning.StartDunning, mock.Anything, flow.StartDunningInput{Invoices: []flow.InvoiceRef{wall}}).Return(nil).Once()
		}

		assert.Equal(t, flow.BillingTotals{Invoiced: 2, Declined: 2}, runBilling(t, env), "recorded before: %v", recorded)
		env.AssertExpectations(t)
	}
}
