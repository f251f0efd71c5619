package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
)

// Reading a contract's future: its timeline of pending changes, and its
// terms as they will be on a date. Both read the contract and its open
// amendments without a lock, as any read does; the quotes they show were
// priced against the projection under the contract's lock (store.rebaseLocked).

// getContractTimeline answers a contract's current terms and each pending
// phase in the order it will apply.
func (s *server) getContractTimeline(c *gin.Context) {
	tl, err := s.Store.ContractTimeline(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, timelineViewOf(tl.Contract, tl.Pending))
}

// getContractAsOf answers the contract as it will be on the date asOf names:
// its terms after every scheduled amendment dated on or before it, and
// expired from its expiration date if its terms are EXPIRE. Only the
// future is projected: a date before today is refused, since the contract's
// past is in its segments and applied amendments, not in its pending ones.
func (s *server) getContractAsOf(c *gin.Context, raw string) {
	on, err := domain.ParseCivilDate(raw)
	if err != nil {
		s.fail(c, domain.Errorf(domain.KindInvalid, "asOf", "asOf must be a date, YYYY-MM-DD"))
		return
	}
	tl, err := s.Store.ContractTimeline(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	// Today is the contract's: its test clock's, when it lives on one.
	if today := domain.DateOf(tl.Contract.Now(s.Now())); on.Before(today) {
		s.fail(c, domain.Errorf(domain.KindInvalid, "asOf",
			"asOf %s is before today (%s): only the contract's future is projected; its past is in its segments and amendments", on, today))
		return
	}
	pr := domain.ProjectOn(tl.Contract, tl.Pending, on)
	c.JSON(http.StatusOK, projectedContract{Contract: shownTo(c, pr.Contract), AsOf: on, CancelledBy: pr.CancelledBy})
}

// phaseTerms is the contract as it will be once p applies, after the
// accepted amendments before it (earlier, the ones of its list before it).
// One in REVIEW is shown as it would be if approved now, without joining the
// projection the later phases are shown on.
func phaseTerms(ct domain.Contract, earlier []domain.Pending, p domain.Pending) domain.Contract {
	accepted := p
	accepted.Status = domain.StatusScheduled
	return domain.Project(ct, append(slices.Clip(earlier), accepted), p.Quote.EffectiveDate).Contract
}
