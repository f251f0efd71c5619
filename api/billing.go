package api

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

type billingRunRequest struct {
	AsOf domain.Date `json:"asOf"`
}

// runBilling bills the caller's tenant for every period due by asOf. A run
// that ends within the configured wait is answered with its totals; a longer
// one with 202 and where to follow it (getBillingRun). asOf may not be after
// today: periods bill in advance, but not before they start. A request for a
// date whose run is still going joins that run.
func (s *server) runBilling(c *gin.Context) {
	var req billingRunRequest
	if err := decodeBody(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.AsOf.IsZero() {
		s.fail(c, domain.Errorf(domain.KindInvalid, "asOf", "asOf is required (YYYY-MM-DD)"))
		return
	}
	if today := domain.DateOf(s.Now()); req.AsOf.After(today) {
		s.fail(c, domain.Errorf(domain.KindInvalid, "asOf", "asOf %s is after today (%s): a period is billed once it has started", req.AsOf, today))
		return
	}
	// The request's own context, not the pooled gin.Context: the SDK and
	// database/sql may still hold it in a goroutine after the handler returns.
	ctx, p := c.Request.Context(), principal(c)
	totals, done, err := s.Temporal.RunBilling(ctx, flow.BillingRunInput{TenantID: p.TenantID, AsOf: req.AsOf}, s.BillingRunWait)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !done {
		started := toBillingRunStartedView(req.AsOf)
		c.Header("Location", started.Progress)
		c.JSON(http.StatusAccepted, started)
		return
	}
	c.JSON(http.StatusOK, billingRunResponse{AsOf: req.AsOf, BillingTotals: totals})
}

// getBillingRun shows a run of the caller's tenant, running or ended, with
// its progress. Its id is its asOf date: one run per tenant and date at a
// time, the latest of them shown. Another tenant's runs are not looked at.
func (s *server) getBillingRun(c *gin.Context) {
	// The id is spelt as runs name themselves: a date-time, or a date a
	// run's asOf could not be, is no run's.
	id := c.Param("id")
	day, err := time.Parse(time.DateOnly, id)
	if err != nil || checkDate("id", id, false) != nil {
		s.fail(c, domain.Errorf(domain.KindInvalid, "id", "a billing run's id is its asOf date (YYYY-MM-DD, years %d to %d)", minDateYear, maxDateYear))
		return
	}
	asOf := domain.DateOf(day)
	run, err := s.Temporal.BillingRun(c.Request.Context(), principal(c).TenantID, asOf)
	if errors.Is(err, flow.ErrBillingRunNotFound) {
		err = domain.Errorf(domain.KindNotFound, "", "billing run %s does not exist", asOf)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toBillingRunView(run))
}

// listInvoices shows a contract's invoices with their payment state; another
// tenant's or account's contract is a 404 like a missing one.
func (s *server) listInvoices(c *gin.Context) {
	invoices, err := s.Store.ContractInvoices(c.Request.Context(), scope(c), c.Param("id"))
	if err != nil {
		s.fail(c, notFoundAs(err, "contract %q does not exist", c.Param("id")))
		return
	}
	c.JSON(http.StatusOK, toContractInvoicesView(invoices))
}

// maxAccountNumber bounds an account number in a path.
const maxAccountNumber = 100

// getAccountBalance shows what an account owes (open and unpaid invoices)
// and what it is owed (credit notes still to apply, or to refund once their
// contract has ended). Another tenant's or account's is a 404.
func (s *server) getAccountBalance(c *gin.Context) {
	number := c.Param("accountNumber")
	if len(number) > maxAccountNumber || !utf8.ValidString(number) || strings.ContainsRune(number, 0) {
		s.fail(c, domain.Errorf(domain.KindInvalid, "accountNumber", "accountNumber must be valid text of at most %d bytes", maxAccountNumber))
		return
	}
	balance, err := s.Store.AccountBalance(c.Request.Context(), scope(c), number)
	if err != nil {
		s.fail(c, notFoundAs(err, "account %q does not exist", number))
		return
	}
	c.JSON(http.StatusOK, toAccountBalanceView(balance))
}
