package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// Test clocks (README: "Rehearse with a test clock"): a sandbox tenant's
// own time, which its contracts created with testClockId live on and which
// moves only when an operator advances it. The store keeps the clock; an
// advance and a deletion are workflows (internal/flow/clocks.go).

const (
	defaultClockPageSize = 20
	maxClockPageSize     = 100
)

type testClockRequest struct {
	Name       string    `json:"name"`
	FrozenTime time.Time `json:"frozenTime"`
}

type clockAdvanceRequest struct {
	To time.Time `json:"to"`
}

// testClockView is a clock as the API shows it: TargetTime only while it
// advances, DeletedOn only once deleted.
type testClockView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	FrozenTime time.Time  `json:"frozenTime"`
	Status     string     `json:"status"`
	TargetTime *time.Time `json:"targetTime,omitempty"`
	// Message says, for a clock whose advance stopped, why and what to do.
	Message   string     `json:"message,omitempty"`
	Contracts int        `json:"contracts"`
	CreatedOn time.Time  `json:"createdOn"`
	CreatedBy string     `json:"createdBy"`
	DeletedOn *time.Time `json:"deletedOn,omitempty"`
}

func toTestClockView(c store.TestClock) testClockView {
	return testClockView{
		ID: c.ID, Name: c.Name, FrozenTime: c.FrozenTime, Status: c.Status, TargetTime: c.TargetTime,
		Contracts: c.Contracts, CreatedOn: c.CreatedAt, CreatedBy: c.CreatedBy, DeletedOn: c.DeletedAt,
	}
}

type testClockList struct {
	Items         []testClockView `json:"items"`
	NextPageToken string          `json:"nextPageToken,omitempty"`
}

// createTestClock stores a clock frozen at frozenTime; only a sandbox
// tenant may (the store refuses any other with 403).
func (s *server) createTestClock(c *gin.Context) {
	var req testClockRequest
	if err := decodeBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	var problems domain.Problems
	if strings.TrimSpace(req.Name) == "" {
		problems.Addf("name is required")
	}
	if req.FrozenTime.IsZero() {
		problems.Addf("frozenTime is required (an RFC 3339 date-time)")
	}
	if err := problems.Err(); err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	clock, err := s.Store.CreateTestClock(c.Request.Context(), p.TenantID, p.ActorID, req.Name, req.FrozenTime, s.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toTestClockView(clock))
}

// listTestClocks lists the tenant's clocks that are not deleted, oldest first.
func (s *server) listTestClocks(c *gin.Context) {
	pageSize, err := pageSizeWithin(c, defaultClockPageSize, maxClockPageSize)
	if err != nil {
		s.fail(c, err)
		return
	}
	after, err := decodeIDPageToken(queryParam(c, "pageToken"))
	if err != nil {
		s.fail(c, err)
		return
	}
	items, more, err := s.Store.TestClocks(c.Request.Context(), principal(c).TenantID, after, pageSize)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := testClockList{Items: nonNil(s.clockViews(c.Request.Context(), principal(c).TenantID, items))}
	if more {
		out.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(items[len(items)-1].ID))
	}
	c.JSON(http.StatusOK, out)
}

// issuedID tells whether s is a uuid spelt as this service writes them (and
// Postgres reads them): a page token holds an id only so.
func issuedID(s string) bool {
	id, err := uuid.Parse(s)
	return err == nil && id.String() == s
}

// decodeIDPageToken reads a page token that holds the id of the last item seen.
func decodeIDPageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !issuedID(string(raw)) {
		return "", domain.Errorf(domain.KindInvalid, "pageToken", "pageToken is not a token this service issued")
	}
	return string(raw), nil
}

// getTestClock shows one of the tenant's clocks, deleted ones included.
// An advancing clock's workflow is started if it never was, so that
// reading the clock until it is ready, as an integrator does, finishes an
// advance whose start was lost (the API stopped between recording it and
// starting its workflow, or Temporal was unreachable then): left alone, the
// clock would stay advancing and hold its work of the tenant's budget.
func (s *server) getTestClock(c *gin.Context) {
	ctx, tenantID := c.Request.Context(), principal(c).TenantID
	clock, err := s.Store.TestClock(ctx, tenantID, c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "test clock %q does not exist", c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, s.clockViews(ctx, tenantID, []store.TestClock{clock})[0])
}

// clockResumes bounds the advances a read of a page of clocks asks
// Temporal about at once.
const clockResumes = 8

// clockViews shows clocks as the API does: each advancing one as
// resumeClockAdvance finds it, so that a list shows a stopped advance as
// a read of the clock alone does. The page's advances are asked about
// together, clockResumes at a time, all within one clockResumeWait: a
// clock whose turn has not come by then shows its stored status, and the
// next read asks again.
func (s *server) clockViews(ctx context.Context, tenantID string, clocks []store.TestClock) []testClockView {
	deadline := time.Now().Add(clockResumeWait)
	turns := make(chan struct{}, clockResumes)
	var wg sync.WaitGroup
	views := make([]testClockView, len(clocks))
	for i, clock := range clocks {
		views[i] = toTestClockView(clock)
		if clock.Status != store.ClockAdvancing || clock.TargetTime == nil {
			continue
		}
		wg.Go(func() {
			select {
			case turns <- struct{}{}:
				defer func() { <-turns }()
				if ctx.Err() == nil && time.Now().Before(deadline) {
					views[i] = s.resumeClockAdvance(ctx, deadline, tenantID, clock)
				}
			case <-time.After(time.Until(deadline)):
			case <-ctx.Done(): // the client went away
			}
		})
	}
	wg.Wait()
	return views
}

// clockStopped is the status a read shows of a clock whose advance's
// workflow closed before the clock reached its target (it failed, or an
// operator terminated it): the clock stays advancing, holding the advance's
// work, until the advance is repeated or the clock deleted, and an
// integrator polling it until it is ready would otherwise poll for good.
const clockStopped = "stopped"

// clockResumeWait bounds a read's try at starting its clock's advance: a
// Temporal that does not answer (overloaded, or its address dropping
// packets) would otherwise hold each read for the client's own timeouts
// (10 s a call), and a client polling the clock with it. A start given up
// on is tried again by the next read, which joins one Temporal made all
// the same.
const clockResumeWait = 2 * time.Second

// resumeClockAdvance starts the advancing clock's workflow if it was never
// started, or joins it while it runs (see flow.Client.ResumeClockAdvance),
// asking Temporal until deadline at most, and returns the clock's view:
// stopped when that workflow has closed and the clock, read again, is
// still on the same advance (it did not finish it in the moment between).
func (s *server) resumeClockAdvance(ctx context.Context, deadline time.Time, tenantID string, clock store.TestClock) testClockView {
	resumeCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	closed, err := s.Temporal.ResumeClockAdvance(resumeCtx, flow.TestClockInput{TenantID: tenantID, ClockID: clock.ID}, clock.Advances, *clock.TargetTime)
	if err != nil {
		s.Logger.WarnContext(ctx, "could not make sure an advancing test clock's workflow runs", "clock", clock.ID, "error", err)
	}
	if !closed {
		return toTestClockView(clock)
	}
	again, err := s.Store.TestClock(ctx, tenantID, clock.ID)
	if err != nil {
		s.Logger.WarnContext(ctx, "could not read a test clock again", "clock", clock.ID, "error", err)
		return toTestClockView(clock)
	}
	view := toTestClockView(again)
	if again.Status == store.ClockAdvancing && again.Advances == clock.Advances {
		view.Status = clockStopped
		view.Message = "the advance to " + again.TargetTime.Format(time.RFC3339Nano) + " stopped at frozenTime, before the clock got there: " +
			"its workflow closed (it failed, or an operator terminated it). Repeat the advance (POST /api/test-clocks/" + again.ID +
			"/advance with the same to) to carry it on from there, or delete the clock"
	}
	return view
}

// advanceTestClock moves a clock forward to `to`: the store records the
// advance, and its workflow steps the clock there. The answer is 202 with
// the clock advancing (GET it until it is ready), or 200 when the clock
// stands at `to` already. Repeating an advance under way to the same
// target starts its workflow again, which joins the running one: so a
// request that failed to start it (503) is retried by repeating it, or by
// reading the clock (getTestClock).
func (s *server) advanceTestClock(c *gin.Context) {
	var req clockAdvanceRequest
	if err := decodeBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.To.IsZero() {
		s.fail(c, domain.Errorf(domain.KindInvalid, "to", "to is required (an RFC 3339 date-time)"))
		return
	}
	ctx, p, id := c.Request.Context(), principal(c), c.Param("id")
	to := req.To.UTC().Truncate(time.Microsecond) // as the store keeps it
	clock, err := s.Store.TestClock(ctx, p.TenantID, id)
	if err != nil {
		s.fail(c, notFoundAs(err, "test clock %q does not exist", id))
		return
	}
	id = clock.ID // as stored, which names its workflows, however the path spelt it
	if clock.Status != store.ClockAdvancing || !clock.TargetTime.Equal(to) {
		if clock, err = s.Store.StartAdvance(ctx, p.TenantID, id, to); err != nil {
			s.failAs(c, clockAdvanceSurface{}, notFoundAs(err, "test clock %q does not exist", id))
			return
		}
		if clock.Status == store.ClockReady {
			c.JSON(http.StatusOK, toTestClockView(clock)) // it stands at `to` already
			return
		}
	}
	if err := s.Temporal.StartClockAdvance(ctx, flow.TestClockInput{TenantID: p.TenantID, ClockID: id}, clock.Advances, to); err != nil {
		s.fail(c, &retryError{cause: err, msg: "test clock " + id + " is advancing to " + to.Format(time.RFC3339) +
			", but its advance could not be started; repeat this request, or read the clock, to start it"})
		return
	}
	c.JSON(http.StatusAccepted, toTestClockView(clock))
}

// clockAdvanceRefusal is an advance refused for its work (see
// domain.CheckClockAdvance) in the general format, with what a client needs
// to go on: how far the clock may go in one advance, the work counted, and
// the work of the tenant's other advances under way, which share maxWork.
type clockAdvanceRefusal struct {
	generalBody
	FurthestTo   time.Time       `json:"furthestTo"`
	Work         advanceWorkView `json:"work"`
	MaxWork      int             `json:"maxWork"`
	WorkUnderWay int             `json:"workUnderWay"`
}

type advanceWorkView struct {
	domain.AdvanceWork
	Total int `json:"total"`
}

// clockAdvanceSurface is the general format, and clockAdvanceRefusal for
// an advance refused for its work.
type clockAdvanceSurface struct{}

func (clockAdvanceSurface) render(c *gin.Context, f failure) {
	var much *domain.TooMuchWork
	if !errors.As(f.Err, &much) {
		general{}.render(c, f)
		return
	}
	c.JSON(f.Status, clockAdvanceRefusal{
		generalBody:  generalBody{Code: codeFor(f.Status), Message: f.Message},
		FurthestTo:   much.Work.Furthest,
		Work:         advanceWorkView{AdvanceWork: much.Work.Work, Total: much.Work.Work.Total()},
		MaxWork:      domain.MaxClockAdvanceWork,
		WorkUnderWay: much.Work.UnderWay,
	})
}

// deleteTestClock deletes a clock through its deletion workflow (it
// cancels the clock's contracts, so it is a workflow's to do): their open
// amendments fail, the active ones are cancelled (their records stay), and
// the clock's workflows are stopped. Deleting again answers the same.
func (s *server) deleteTestClock(c *gin.Context) {
	ctx, p := c.Request.Context(), principal(c)
	clock, err := s.Store.TestClock(ctx, p.TenantID, c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "test clock %q does not exist", c.Param("id")))
		return
	}
	id := clock.ID // as stored, which names its workflows, however the path spelt it
	done, err := s.Temporal.DeleteClock(ctx, flow.ClockDeletion{TenantID: p.TenantID, ClockID: id, ActorID: p.ActorID}, s.AmendmentWait)
	if err != nil {
		s.fail(c, err)
		return
	}
	if clock, err = s.Store.TestClock(ctx, p.TenantID, id); err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if !done {
		// Still under way: the clock as it stands; a repeat joins it.
		status = http.StatusAccepted
	}
	c.JSON(status, toTestClockView(clock))
}

// liveTestClock is the tenant's clock that new contracts are to live on:
// one that exists and is not deleted. A tenant that is not a sandbox has
// no clocks, so it is refused here too.
func (s *server) liveTestClock(c *gin.Context, tenantID, id string) (store.TestClock, error) {
	clock, err := s.Store.TestClock(c.Request.Context(), tenantID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return clock, domain.Errorf(domain.KindInvalid, "testClockId",
			"testClockId %s is not a test clock of this tenant (test clocks are for sandbox tenants only)", id)
	case err != nil:
		return clock, err
	case clock.Status == store.ClockDeleted:
		return clock, domain.Errorf(domain.KindUnprocessable, "testClockId", "test clock %s is deleted", id)
	}
	return clock, nil
}
