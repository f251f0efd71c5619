package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/payments"
	"github.com/contractd/contractd/workflows"
)

// clocks and amendments name the activities the mocks stand in for.
var (
	clocks     *activities.Clocks
	amendments *activities.Amendments
)

const clockID = "clock-1"

// clockDue is the due date of an invoice on a test clock: years away from
// Temporal's time, so only the clock can bring its retries.
var clockDue = domain.NewDate(2031, 3, 1)

// day is the start of the n-th day after the clocked invoice's due date,
// when its dunning retries.
func day(n int) time.Time { return clockDue.AddDays(n).Time() }

// testClock stands in for a test clock and its advances: RegisterClockWait
// records what each wait is due at and answers with the clock's time, and
// advance tells the workflow the clock's new time, as an advance does.
type testClock struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	at    time.Time
	waits []time.Time // Due of each registered wait, in order
	told  int
}

func onTestClock(t *testing.T, env *testsuite.TestWorkflowEnvironment, at time.Time) *testClock {
	c := &testClock{t: t, env: env, at: at}
	env.OnActivity(clocks.RegisterClockWait, mock.Anything, mock.MatchedBy(func(in flow.ClockWaitInput) bool { return in.ClockID == clockID })).
		Return(func(_ context.Context, in flow.ClockWaitInput) (time.Time, error) {
			c.waits = append(c.waits, in.Due)
			return c.at, nil
		}).Maybe()
	return c
}

// advance moves the clock to its new time (a clock never moves back) and
// tells the workflow to, in a (trusted) UpdateClockAdvanced that must be
// accepted.
func (c *testClock) advance(to time.Time) {
	if to.After(c.at) {
		c.at = to
	}
	c.told++
	c.env.UpdateWorkflow(flow.UpdateClockAdvanced, fmt.Sprintf("advance-%d", c.told), &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { c.t.Errorf("the clock's advance to %s was refused: %v", to, err) },
		OnAccept:   func() {},
		OnComplete: func(_ any, err error) { assert.NoError(c.t, err) },
	}, flow.ClockAdvanced{Time: to})
}

// every runs f at each of the given distances from the start on Temporal's
// time, which the test suite skips to.
func every(env *testsuite.TestWorkflowEnvironment, after []time.Duration, f func(i int)) {
	for i, d := range after {
		env.RegisterDelayedCallback(func() { f(i) }, d)
	}
}

const month = 30 * 24 * time.Hour

// clockedInvoice is a declined invoice of a contract on the test clock.
func clockedInvoice() flow.InvoiceRef {
	inv := invoice("1")
	inv.TestClockID, inv.DueDate = clockID, clockDue
	return inv
}

// attempts records the collection attempts on an invoice and the clock's
// time at each; authorise answers attempt n.
type attempts struct {
	number []int
	at     []time.Time
}

func (a *attempts) mock(env *testsuite.TestWorkflowEnvironment, clock *testClock, inv flow.InvoiceRef, authorise func(n int) (payments.Authorisation, error)) {
	env.OnActivity(collections.CollectInvoices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in flow.CollectInvoicesInput) (flow.CollectedInvoices, error) {
			if len(in.Invoices) != 1 || in.Invoices[0] != inv || in.TestClockID != inv.TestClockID {
				return flow.CollectedInvoices{}, fmt.Errorf("unexpected collection %+v", in)
			}
			outcome := domain.CollectionSucceeded
			if _, err := authorise(len(a.number) + 1); err != nil {
				outcome = domain.CollectionDeclined
			}
			a.number, a.at = append(a.number, in.Attempt), append(a.at, clock.at)
			return flow.CollectedInvoices{Outcomes: []domain.CollectionOutcome{outcome}}, nil
		}).Maybe()
}

// dunningOnClock is a test of a DunningWorkflow of clockedInvoice whose
// test clock stands at at, and whose attempts authorise answers.
func dunningOnClock(t *testing.T, at time.Time, authorise func(n int) (payments.Authorisation, error)) (*testsuite.TestWorkflowEnvironment, *testClock, *attempts) {
	env := billingEnv(t)
	env.SetStartTime(dueDate.Time().Add(2 * time.Hour))
	clock := onTestClock(t, env, at)
	tried := &attempts{}
	tried.mock(env, clock, clockedInvoice(), authorise)
	return env, clock, tried
}

func alwaysDeclined(int) (payments.Authorisation, error) { return payments.Authorisation{}, declined }

func authorised(int) (payments.Authorisation, error) {
	return payments.Authorisation{ID: "auth-1", Amount: 3500, Currency: "USD"}, nil
}

func requireCompleted(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

// Months of Temporal's time change nothing for a dunning on a test clock:
// each retry happens when the clock's advance reaches its day, and only
// then is the next one's wait recorded.
func TestDunningOnATestClockRetriesWhenTheClockGetsThere(t *testing.T) {
	env, clock, tried := dunningOnClock(t, clockDue.Time().Add(2*time.Hour), alwaysDeclined)
	inv := clockedInvoice()
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()
	var before []int // attempts made before each advance
	every(env, []time.Duration{month, 2 * month, 3 * month}, func(i int) {
		before = append(before, len(tried.number))
		clock.advance(day(domain.DunningDays[i]))
	})

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	requireCompleted(t, env)
	assert.Equal(t, []int{0, 1, 2}, before, "a retry waited for the clock, not for Temporal's time")
	assert.Equal(t, []int{1, 2, 3}, tried.number)
	assert.Equal(t, []time.Time{day(1), day(3), day(7)}, tried.at, "retries on the clock's days 1, 3 and 7 after the due date")
	assert.Equal(t, []time.Time{day(1), day(3), day(7)}, clock.waits, "each wait recorded once, in order")
}

// An advance that stops short of the due moment does not wake the wait;
// one that goes past it, then an older one, leaves the clock at the newer
// time: the retry whose day the clock passed happens at once.
func TestClockUpdateBeforeTheDueMomentWaitsAndTheClockNeverMovesBack(t *testing.T) {
	env, clock, tried := dunningOnClock(t, clockDue.Time().Add(2*time.Hour), alwaysDeclined)
	inv := clockedInvoice()
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()
	var before []int
	every(env, []time.Duration{month, 2 * month, 3 * month}, func(i int) {
		before = append(before, len(tried.number))
		switch i {
		case 0:
			clock.advance(day(1).Add(-time.Minute))
		case 1:
			clock.advance(day(3))
			clock.advance(day(1))
		case 2:
			clock.advance(day(7))
		}
	})

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	requireCompleted(t, env)
	assert.Equal(t, []int{0, 0, 2}, before, "a minute short of the due moment woke nothing; day 3 brought two retries")
	assert.Equal(t, []int{1, 2, 3}, tried.number)
	assert.Equal(t, []time.Time{day(1), day(7)}, clock.waits, "the day-3 retry needed no wait: the older time did not move the clock back")
}

// A clock that stands at a retry's moment already (an advance moved it on
// while the dunning started) lets the retry happen at once, with no Update.
func TestDunningOnAClockAtTheDueMomentRetriesAtOnce(t *testing.T) {
	env, clock, tried := dunningOnClock(t, day(1), authorised)
	inv := clockedInvoice()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	requireCompleted(t, env)
	assert.Equal(t, []int{1}, tried.number)
	assert.Equal(t, []time.Time{day(1)}, clock.waits)
	assert.Zero(t, clock.told)
}

// On a clock already past every retry day, the dunning retries and marks
// the invoice in arrears at once: its first wait learns the clock's time,
// which is past every later day too.
func TestDunningOnAClockPastEveryRetryDunsToArrearsAtOnce(t *testing.T) {
	env, clock, tried := dunningOnClock(t, day(8), alwaysDeclined)
	inv := clockedInvoice()
	env.OnActivity(billing.MarkInArrears, mock.Anything, inv).Return(nil).Once()

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	requireCompleted(t, env)
	assert.Equal(t, []int{1, 2, 3}, tried.number)
	assert.Equal(t, []time.Time{day(1)}, clock.waits)
}

// Only the service may move a workflow's clock: an unsigned
// UpdateClockAdvanced is refused, and the dunning keeps waiting.
func TestUnsignedClockAdvanceIsRefused(t *testing.T) {
	env, clock, tried := dunningOnClock(t, clockDue.Time().Add(2*time.Hour), alwaysDeclined)
	env.SetWorkerOptions(worker.Options{
		Interceptors:             []interceptor.WorkerInterceptor{workflows.NewUpdateKeyInterceptor(flow.UpdateKey("the workers' key of thirty-two characters"))},
		DeadlockDetectionTimeout: 10 * time.Second,
	})
	inv := clockedInvoice()
	var refusal error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateClockAdvanced, "forged", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { refusal = err },
			OnAccept:   func() { t.Error("an unsigned clock advance was accepted") },
			OnComplete: func(any, error) {},
		}, flow.ClockAdvanced{Time: day(8)})
	}, time.Hour)
	env.RegisterDelayedCallback(env.CancelWorkflow, month)

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	require.True(t, env.IsWorkflowCompleted(), "cancelled while it waited")
	require.Error(t, refusal)
	assert.Contains(t, refusal.Error(), "only the API may send "+flow.UpdateClockAdvanced)
	assert.Empty(t, tried.number, "no retry after a refused advance")
	assert.Equal(t, []time.Time{day(1)}, clock.waits)
}

// A dunning on the wall clock refuses to be told a clock's time and keeps
// to its timers.
func TestWallClockDunningRefusesAClockAdvance(t *testing.T) {
	env := billingEnv(t)
	start := dueDate.Time().Add(2 * time.Hour)
	env.SetStartTime(start)
	inv := invoice("1")
	var collectedAt time.Time
	env.OnActivity(collections.CollectInvoices, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { collectedAt = env.Now().UTC() }).
		Return(flow.CollectedInvoices{Outcomes: []domain.CollectionOutcome{domain.CollectionSkipped}}, nil).Once()
	var refusal error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateClockAdvanced, "advance-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { refusal = err },
			OnAccept:   func() { t.Error("a wall-clock workflow accepted a clock advance") },
			OnComplete: func(any, error) {},
		}, flow.ClockAdvanced{Time: start.Add(30 * 24 * time.Hour)})
	}, time.Hour)

	env.ExecuteWorkflow(workflows.DunningWorkflow, flow.DunningInput{InvoiceRef: inv})

	requireCompleted(t, env)
	require.Error(t, refusal)
	assert.Contains(t, refusal.Error(), "not on a test clock")
	assert.Equal(t, dueDate.AddDays(1).Time(), collectedAt, "the retry came on its timer")
}

// openedAt is when an amendment on the test clock is opened, on the clock.
var openedAt = time.Date(2031, 3, 1, 10, 0, 0, 0, time.UTC)

// amendmentOnClock is a test of an AmendmentWorkflow whose amendment, of a
// contract on the test clock, opens SCHEDULED at openedAt, effective 30
// days of the clock later.
func amendmentOnClock(t *testing.T) (*testsuite.TestWorkflowEnvironment, *testClock) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.AmendmentWorkflow)
	env.OnActivity(amendments.OpenAmendment, mock.Anything, mock.Anything).Return(flow.OpenAmendmentResult{
		Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusScheduled},
		Contract:  flow.ContractSummary{ID: "ct-1", Version: 1},
		WaitFor:   month,
		TestClock: &flow.ClockReading{ID: clockID, Time: openedAt},
	}, nil).Once()
	return env, onTestClock(t, env, openedAt)
}

func amendmentOutcome(t *testing.T, env *testsuite.TestWorkflowEnvironment) flow.Outcome {
	t.Helper()
	requireCompleted(t, env)
	var out flow.Outcome
	require.NoError(t, env.GetWorkflowResult(&out))
	return out
}

// A scheduled amendment on a test clock applies when the clock reaches its
// effective moment, however much of Temporal's time passes before.
func TestScheduledAmendmentOnATestClockAppliesWhenTheClockGetsThere(t *testing.T) {
	env, clock := amendmentOnClock(t)
	effective := openedAt.Add(month)
	var appliedAt []time.Time // on the clock
	env.OnActivity(amendments.ApplyAmendment, mock.Anything, mock.Anything).Return(func(context.Context, flow.ApplyAmendmentInput) (flow.Applied, error) {
		appliedAt = append(appliedAt, clock.at)
		return flow.Applied{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusApplied}, Contract: flow.ContractSummary{ID: "ct-1", Version: 2}}, nil
	}).Once()
	var before []int
	every(env, []time.Duration{40 * 24 * time.Hour, 80 * 24 * time.Hour}, func(i int) {
		before = append(before, len(appliedAt))
		clock.advance([]time.Time{effective.Add(-time.Second), effective}[i])
	})

	env.ExecuteWorkflow(workflows.AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	assert.Equal(t, domain.StatusApplied, amendmentOutcome(t, env).Amendment.Status)
	assert.Equal(t, []int{0, 0}, before, "not applied after 40 days of Temporal's time, nor a second short of its moment")
	assert.Equal(t, []time.Time{effective}, appliedAt)
	assert.Equal(t, []time.Time{effective}, clock.waits)
}

// While it waits on its clock, a scheduled amendment can be withdrawn.
func TestScheduledAmendmentOnATestClockCanBeWithdrawn(t *testing.T) {
	env, clock := amendmentOnClock(t)
	env.OnActivity(amendments.TransitionAmendment, mock.Anything, mock.MatchedBy(func(in flow.TransitionInput) bool {
		return in.To == domain.StatusWithdrawn && in.ActorID == "alice"
	})).Return(flow.Transitioned{Amendment: domain.Amendment{ID: "am-1", Status: domain.StatusWithdrawn}}, nil).Once()
	var withdrawn flow.Outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(flow.UpdateWithdraw, "w-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("withdraw rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); withdrawn = v.(flow.Outcome) },
		}, flow.Actor{ID: "alice", Source: "USER"})
	}, 40*24*time.Hour)

	env.ExecuteWorkflow(workflows.AmendmentWorkflow, flow.OpenAmendmentInput{AmendmentID: "am-1"})

	assert.Equal(t, domain.StatusWithdrawn, amendmentOutcome(t, env).Amendment.Status)
	assert.Equal(t, domain.StatusWithdrawn, withdrawn.Amendment.Status)
	assert.Equal(t, []time.Time{openedAt.Add(month)}, clock.waits)
	env.AssertNotCalled(t, "ApplyAmendment", mock.Anything, mock.Anything)
}

// A term on a test clock opens its renewal on the clock's notice date,
// waits on the clock (not for Temporal's 60 days) for the next day's try,
// and ends when the clock reaches its end; the next term is watched on the
// same clock.
func TestContractTermOnATestClockEndsWhenTheClockGetsThere(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.ContractTermWorkflow)
	env.SetStartTime(termStarted)
	in := termOf(30, termEnd.AddDays(-30).Time().Add(5*time.Minute)) // found by the notice day's sweep
	in.TestClockID = clockID
	clock := onTestClock(t, env, in.FoundAt)
	var opened, ended []time.Time // on the clock
	env.OnActivity(terms.OpenRenewal, mock.Anything, in).Return(func(context.Context, flow.TermInput) (flow.RenewalOpened, error) {
		opened = append(opened, clock.at)
		return renewalOpen, nil
	})
	env.OnActivity(terms.EndTerm, mock.Anything, in).Return(func(context.Context, flow.TermInput) (flow.TermEnded, error) {
		ended = append(ended, clock.at)
		return flow.TermEnded{Outcome: "RENEWING"}, nil
	}).Once()
	next := flow.TermsSweepInput{TenantID: in.TenantID, ContractIDs: []string{in.ContractID}, TestClockID: clockID}
	env.OnActivity(terms.WatchTerms, mock.Anything, next).Return(flow.TermsPage{}, nil).Once()
	var before []int
	env.RegisterDelayedCallback(func() {
		before = append(before, len(opened), len(ended))
		clock.advance(termEnd.Time())
	}, 2*month)

	assert.Equal(t, "RENEWING", runTerm(t, env, in).Outcome)
	assert.Equal(t, []int{1, 0}, before, "one try on the notice date, no end, after 60 days of Temporal's time")
	assert.Equal(t, []time.Time{in.FoundAt.Add(24 * time.Hour)}, clock.waits, "the next day's try waited on the clock")
	assert.Equal(t, []time.Time{in.FoundAt, termEnd.Time(), termEnd.Time()}, opened)
	assert.Equal(t, []time.Time{termEnd.Time()}, ended)
}
