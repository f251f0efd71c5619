package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/workflows"
)

// terms, timeline and creator name the activities the mocks stand in for.
var (
	terms    *activities.Terms
	timeline *activities.Amendments
	creator  *activities.Contracts
)

var (
	// termStarted is when a term's workflow starts, on Temporal's clock:
	// not in the past (see dueDate).
	termStarted = dueDate.Time().Add(3 * time.Hour)
	// foundAt is the business clock's time when the term was found, years
	// apart from Temporal's: a term's waits are measured from it.
	foundAt = time.Date(2030, 1, 10, 15, 0, 0, 0, time.UTC)
	// termEnd is 2030-02-24, so a 30-day notice opens on 2030-01-25.
	termEnd = domain.DateOf(foundAt).AddDays(45)
	// The workflow reaches the start of those days as long after its own
	// start as they are after foundAt: 14 days 9 hours for the notice, 44
	// days 9 hours for the end.
	noticeReached = termStarted.Add(14*24*time.Hour + 9*time.Hour)
	endReached    = termStarted.Add(44*24*time.Hour + 9*time.Hour)
)

func termOf(noticeDays int, found time.Time) flow.TermInput {
	return flow.TermInput{TenantID: "tenant-1", ContractID: "contract-1", End: termEnd, NoticeDays: noticeDays, FoundAt: found}
}

// termSteps records when a term's workflow opened its renewal and ended its
// term.
type termSteps struct {
	env    *testsuite.TestWorkflowEnvironment
	opened []time.Time
	ended  []time.Time
}

// mock answers the n-th OpenRenewal of in with opens[n] (the last one
// from then on) and its EndTerm with ended, once; a term that did not
// expire then watches the contract's next term once. The tests check how
// often and when OpenRenewal ran.
func (s *termSteps) mock(in flow.TermInput, opens []flow.RenewalOpened, ended flow.TermEnded) {
	if ended.Outcome != domain.TermExpired {
		next := flow.TermsSweepInput{TenantID: in.TenantID, ContractIDs: []string{in.ContractID}}
		s.env.OnActivity(terms.WatchTerms, mock.Anything, next).Return(flow.TermsPage{}, nil).Once()
	}
	s.env.OnActivity(terms.OpenRenewal, mock.Anything, in).Return(func(context.Context, flow.TermInput) (flow.RenewalOpened, error) {
		s.opened = append(s.opened, s.env.Now().UTC())
		return opens[min(len(s.opened), len(opens))-1], nil
	})
	s.env.OnActivity(terms.EndTerm, mock.Anything, in).Return(func(context.Context, flow.TermInput) (flow.TermEnded, error) {
		s.ended = append(s.ended, s.env.Now().UTC())
		return ended, nil
	}).Once()
}

func termEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *termSteps) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.ContractTermWorkflow)
	env.SetStartTime(termStarted)
	return env, &termSteps{env: env}
}

func runTerm(t *testing.T, env *testsuite.TestWorkflowEnvironment, in flow.TermInput) flow.TermEnded {
	t.Helper()
	env.ExecuteWorkflow(workflows.ContractTermWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var ended flow.TermEnded
	require.NoError(t, env.GetWorkflowResult(&ended))
	return ended
}

var (
	renewalScheduled = flow.RenewalOpened{AmendmentID: "renewal-1", Status: domain.StatusScheduled}
	renewalHeld      = flow.RenewalOpened{AmendmentID: "renewal-1", Status: domain.StatusReview}
	renewalOpen      = flow.RenewalOpened{Reason: "the renewal is open already"}
	blocked          = flow.RenewalOpened{Reason: "the contract is cancelled by the end of its term"}
)

// dailyTries are the times a term in its notice window tries to open its
// renewal: on the notice date, every day after while a day remains before
// the end, and at the end.
func dailyTries(notice, end time.Time) []time.Time {
	var out []time.Time
	for at := notice; at.Before(end); at = at.Add(24 * time.Hour) {
		out = append(out, at)
	}
	return append(out, end)
}

// Each mode: an auto-renewing term opens its renewal on the notice date
// and tries again every day and at the end, in case a cancellation at the
// end kept it from opening, or failed it, and was withdrawn since; EndTerm,
// at the end, says whether the contract renews. Other modes open nothing
// before the end.
func TestContractTermWaitsForTheNoticeDateAndTheEnd(t *testing.T) {
	notice, end := noticeReached, endReached
	cases := []struct {
		name       string
		noticeDays int
		opens      []flow.RenewalOpened
		outcome    string
		wantOpened []time.Time
	}{
		{"auto-renew", 30, []flow.RenewalOpened{renewalScheduled, renewalOpen}, "RENEWING", dailyTries(notice, end)},
		{"held renewal approved", 30, []flow.RenewalOpened{renewalHeld, renewalOpen}, "RENEWING", dailyTries(notice, end)},
		{"held renewal rejected", 30, []flow.RenewalOpened{renewalHeld, renewalOpen}, "EXPIRED", dailyTries(notice, end)},
		{"cancellation at the end withdrawn a day after the notice", 30, []flow.RenewalOpened{blocked, renewalScheduled, renewalOpen}, "RENEWING", dailyTries(notice, end)},
		{"cancellation kept to the end", 30, []flow.RenewalOpened{blocked}, "UNCHANGED", dailyTries(notice, end)},
		{"expire", 0, []flow.RenewalOpened{{Reason: "the contract does not auto-renew"}}, "EXPIRED", []time.Time{end}},
		{"evergreen", 0, []flow.RenewalOpened{{Reason: "the contract does not auto-renew"}}, "UNCHANGED", []time.Time{end}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, steps := termEnv(t)
			in := termOf(c.noticeDays, foundAt)
			steps.mock(in, c.opens, flow.TermEnded{Outcome: c.outcome})

			assert.Equal(t, flow.TermEnded{Outcome: c.outcome}, runTerm(t, env, in))
			assert.Equal(t, c.wantOpened, steps.opened, "renewal opened on the notice date, then at the end")
			assert.Equal(t, []time.Time{end}, steps.ended, "the term ends on its end date, measured from when it was found")
			env.AssertActivityNumberOfCalls(t, "NotifyTimeline", 0)
			watched := 1
			if c.outcome == domain.TermExpired {
				watched = 0
			}
			env.AssertActivityNumberOfCalls(t, "WatchTerms", watched)
		})
	}
}

// A term whose end passed while the service was down is carried out at
// once, when it is found.
func TestContractTermPassedEndsAtOnce(t *testing.T) {
	env, steps := termEnv(t)
	in := termOf(30, termEnd.AddDays(3).Time().Add(10*time.Hour))
	steps.mock(in, []flow.RenewalOpened{renewalScheduled, renewalOpen}, flow.TermEnded{Outcome: "RENEWING"})

	assert.Equal(t, "RENEWING", runTerm(t, env, in).Outcome)
	assert.Equal(t, []time.Time{termStarted, termStarted}, steps.opened)
	assert.Equal(t, []time.Time{termStarted}, steps.ended)
}

// A term that expires with amendments still open ends them, and tells
// their workflows.
func TestContractTermExpiredTellsTheTimeline(t *testing.T) {
	env, steps := termEnv(t)
	in := termOf(0, foundAt)
	ended := flow.TermEnded{Outcome: "EXPIRED", Rebased: true}
	steps.mock(in, []flow.RenewalOpened{{Reason: "the contract does not auto-renew"}}, ended)
	env.OnActivity(timeline.NotifyTimeline, mock.Anything, flow.TimelineInput{TenantID: "tenant-1", ContractID: "contract-1"}).Return(nil).Once()

	assert.Equal(t, ended, runTerm(t, env, in))
}

// A sweep starts the terms of every page, and stops after the last.
func TestTermsSweepPagesThroughEveryTerm(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.TermsSweepWorkflow)
	env.SetStartTime(termStarted)
	page := func(after int64) any {
		return mock.MatchedBy(func(in flow.TermsSweepInput) bool { return in.AfterRef == after && in.AsOf == dueDate })
	}
	env.OnActivity(terms.WatchTerms, mock.Anything, page(0)).Return(flow.TermsPage{Started: 100, LastRef: 140, More: true}, nil).Once()
	env.OnActivity(terms.WatchTerms, mock.Anything, page(140)).Return(flow.TermsPage{Started: 2, LastRef: 250, More: true}, nil).Once()
	env.OnActivity(terms.WatchTerms, mock.Anything, page(250)).Return(flow.TermsPage{LastRef: 250}, nil).Once()

	env.ExecuteWorkflow(workflows.TermsSweepWorkflow, flow.TermsSweepInput{AsOf: dueDate})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var started int
	require.NoError(t, env.GetWorkflowResult(&started))
	assert.Equal(t, 102, started)
}

// A contract action watches the terms of every contract it created, page
// by page, so that a back-dated one's term is carried out the same day.
func TestContractActionWatchesTheTermsOfItsContracts(t *testing.T) {
	env := workflows.NewTestEnv(t)
	env.RegisterWorkflow(workflows.ContractActionWorkflow)
	env.SetStartTime(termStarted)
	in := flow.CreateContractsInput{ActionID: "action-1", TenantID: "tenant-1"}
	created := flow.ContractAction{ID: "action-1", Contracts: []domain.Contract{{ID: "contract-1"}, {ID: "contract-2"}}}
	env.OnActivity(creator.CreateContracts, mock.Anything, in).Return(created, nil).Once()
	page := func(after int64) any {
		return mock.MatchedBy(func(w flow.TermsSweepInput) bool {
			return w.TenantID == "tenant-1" && assert.ObjectsAreEqual([]string{"contract-1", "contract-2"}, w.ContractIDs) && w.AfterRef == after && w.AsOf.IsZero()
		})
	}
	env.OnActivity(terms.WatchTerms, mock.Anything, page(0)).Return(flow.TermsPage{Started: 1, LastRef: 7, More: true}, nil).Once()
	env.OnActivity(terms.WatchTerms, mock.Anything, page(7)).Return(flow.TermsPage{Started: 1, LastRef: 9}, nil).Once()

	env.ExecuteWorkflow(workflows.ContractActionWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out flow.ContractAction
	require.NoError(t, env.GetWorkflowResult(&out))
	assert.Equal(t, created.ID, out.ID)
	assert.Len(t, out.Contracts, 2)
}
