package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

type billingRunRequest struct {
	AsOf domain.Date `json:"asOf"`
}

type billingRunResponse struct {
	AsOf domain.Date `json:"asOf"`
	flow.BillingTotals
}

// runBilling bills the caller's tenant for every period due by asOf and
// answers once each new invoice's first collection has ended. asOf may not be
// after today: periods bill in advance, but not before they start. A request
// for a date whose run is still going joins that run.
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
	totals, err := s.Temporal.RunBilling(ctx, flow.BillingRunInput{TenantID: p.TenantID, AsOf: req.AsOf})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, billingRunResponse{AsOf: req.AsOf, BillingTotals: totals})
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
