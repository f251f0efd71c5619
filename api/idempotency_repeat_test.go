package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
)

// A client retrying a contract action that succeeded (its answer lost) must
// get the contracts it made, whatever changed since: here the business
// moved its default renewal terms, which the customer's request gave as
// they were. Checked again, the repeat was refused 403, which the client
// reads as "not created" and may send anew under another key. Another body
// under the key is still refused, and nothing is created twice.
func TestARepeatedContractActionGetsItsContractsAfterTheTermsMoved(t *testing.T) {
	env := newAmendmentEnv(t)
	const account = "ACC-REPEAT"
	customer := env.NewCustomerKey(env.A, account)
	body := createBody(account, teamItem(map[string]any{
		"quantities": map[string]int{"prod_seat": 5},
		"renewal":    map[string]any{"mode": "EXPIRE", "termMonths": 12, "upliftBasisPoints": 0, "noticeDays": 30},
	}))
	first := env.Do("POST", "/api/contract-actions", customer, body, "Idempotency-Key", "retry-1")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)

	cat := demo.Catalog()
	cat.Renewal = &domain.RenewalTerms{Mode: domain.AutoRenew, TermMonths: 24, UpliftBasisPoints: 200, NoticeDays: 60}
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat).Status)
	fresh := env.Do("POST", "/api/contract-actions", customer, body, "Idempotency-Key", "retry-2")
	require.Equal(t, http.StatusForbidden, fresh.Status, "a new request is checked against the new terms: %s", fresh.Body)

	repeat := env.Do("POST", "/api/contract-actions", customer, body, "Idempotency-Key", "retry-1")
	require.Equal(t, http.StatusOK, repeat.Status, "%s", repeat.Body)
	assert.Equal(t, first.JSON(t)["id"], repeat.JSON(t)["id"])
	assert.Equal(t, first.JSON(t)["contractId"], repeat.JSON(t)["contractId"])

	other := createBody(account, teamItem(map[string]any{"quantities": map[string]int{"prod_seat": 6}}))
	assert.Equal(t, http.StatusUnprocessableEntity, env.Do("POST", "/api/contract-actions", customer, other, "Idempotency-Key", "retry-1").Status)
	assert.Equal(t, 1, env.CountRows("contracts"))
}
