package store

import (
	"context"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
)

// Scope is whose contracts, and the amendments and invoices on them, a caller
// may see: one tenant's and, for a customer key, only one account's. The
// lookups the API reads through take one, and anything outside it is
// ErrNotFound, exactly like a missing row, so a caller cannot tell another
// account's contract from no contract.
type Scope struct {
	TenantID string
	// AccountNumber is the one account a customer key acts for; empty for a
	// key that acts for the whole tenant.
	AccountNumber string
}

// Covers reports whether the scope holds the account's contracts.
func (sc Scope) Covers(accountNumber string) bool {
	return sc.AccountNumber == "" || sc.AccountNumber == accountNumber
}

// visible passes on a loaded contract the scope covers: another account's
// contract is ErrNotFound to a customer key, as a missing one is.
func (sc Scope) visible(ct domain.Contract, err error) (domain.Contract, error) {
	if err == nil && !sc.Covers(ct.AccountNumber) {
		err = ErrNotFound
	}
	if err != nil {
		return domain.Contract{}, err
	}
	return ct, nil
}

// contractsAndAccounts joins contracts to their accounts within the tenant.
// The tenant condition is implied by the foreign key, but stated it lets
// Postgres carry a query's c.tenant_id = $1 over to the accounts, so that an
// account number is looked up on the (tenant_id, number) key: without it, a
// list filtered by account read every account of every tenant (1,000,000
// contracts in 200,000 accounts: 110-180 ms, against under 1 ms with it).
const contractsAndAccounts = `contracts c JOIN accounts a ON a.id = c.account_id AND a.tenant_id = c.tenant_id`

// filter narrows a listing whose query joins `accounts a` (see
// contractsAndAccounts) to the scope's account, appending the condition and
// its argument.
func (sc Scope) filter(query string, args []any) (string, []any) {
	if sc.AccountNumber == "" {
		return query, args
	}
	args = append(args, sc.AccountNumber)
	return query + fmt.Sprintf(" AND a.number = $%d", len(args)), args
}

// inScope is ErrNotFound unless the scope covers the tenant's contract: the last
// step of a lookup that reads an object of a contract (amendment, invoices)
// with the tenant's own query.
func (s *Store) inScope(ctx context.Context, sc Scope, contractID string) error {
	if sc.AccountNumber == "" {
		return nil
	}
	var covered bool
	err := s.db.GetContext(ctx, &covered, `SELECT EXISTS (SELECT 1 FROM `+contractsAndAccounts+`
		WHERE c.tenant_id = $1 AND c.id = $2 AND a.number = $3)`, sc.TenantID, contractID, sc.AccountNumber)
	if err != nil {
		return fmt.Errorf("check the caller's account: %w", err)
	}
	if !covered {
		return ErrNotFound
	}
	return nil
}
