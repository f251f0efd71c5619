package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// badAccountNumbers look blank, or like another account, or show other
// than they are: a probe created contracts for each.
var badAccountNumbers = []string{
	"   ",
	"ACC-0000000001\u200b", // zero-width space: looks like ACC-0000000001
	"ACC\u202e-1",          // right-to-left override
	" ACC-0000000001",
	"ACC-0000000001\u00a0", // no-break space
	"ACC\u2028-1",          // line separator
	"\ufeffACC-1",          // byte-order mark
}

// An account number a contract action would create an account for is
// refused (400, in the surface's format, naming accountNumber) when it is
// blank, begins or ends with white space, or holds a control or format
// character or an invisible separator; nothing is created. Looking one up
// (GET /api/contracts?accountNumber=, /api/accounts/{accountNumber}) keeps
// the older bounds only: there is no such account, so nothing is found.
func TestAccountNumbersMustBeVisibleText(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	for _, number := range badAccountNumbers {
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody(number, teamItem(nil)))
		requireRefused(t, "/api/contract-actions "+number, resp, "accountNumber")

		list := "/api/contracts?accountNumber=" + url.QueryEscape(number)
		assert.Empty(t, idsOf(t, env.Do("GET", list, env.A.SubmitterKey, nil)), "%s", list)
		balance := "/api/accounts/" + url.PathEscape(number) + "/balance"
		resp = env.Do("GET", balance, env.A.OperatorKey, nil)
		assert.Equal(t, http.StatusNotFound, resp.Status, "%s: %s", balance, resp.Body)
	}
	assert.Zero(t, env.CountRows("contracts"))
	assert.Zero(t, env.CountRows("accounts"))

	// Spaces inside one, letters of any script, and a joiner between
	// letters, marks or symbols are an account number's own.
	for _, number := range []string{"Kunde Müller 7", "👩\u200d💻", "شرکت\u200cما", "क्\u200dष-1"} {
		resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody(number, teamItem(nil)))
		require.Equal(t, http.StatusOK, resp.Status, "%q: %s", number, resp.Body)
	}
}

// An account stored before the check, whose number fails it, stays
// reachable: it is listed, its balance read, and a contract action for it
// creates contracts. Only a new account's number is held to the check.
func TestAccountNumberOfAnExistingAccountIsTakenAsItIs(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-LEGACY-1", teamItem(nil)))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	// As an older release stored it: a zero width non-joiner between digits.
	legacy := "ACC-LEGACY-\u200c1"
	env.Store.DB().MustExec(`UPDATE accounts SET number = $2 WHERE tenant_id = $1 AND number = 'ACC-LEGACY-1'`, env.A.ID, legacy)

	list := "/api/contracts?accountNumber=" + url.QueryEscape(legacy)
	assert.Len(t, idsOf(t, env.Do("GET", list, env.A.SubmitterKey, nil)), 1)
	resp = env.Do("GET", "/api/accounts/"+url.PathEscape(legacy)+"/balance", env.A.OperatorKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Equal(t, legacy, resp.JSON(t)["accountNumber"])

	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody(legacy, teamItem(nil)))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	assert.Len(t, idsOf(t, env.Do("GET", list, env.A.SubmitterKey, nil)), 2)
	assert.Equal(t, 1, env.CountRows("accounts"))

	// A new account with such a number is refused.
	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-NEW-\u200c2", teamItem(nil)))
	requireRefused(t, "a new account", resp, "accountNumber")
	assert.Contains(t, string(resp.Body), "a new account", "%s", resp.Body)
	assert.Equal(t, 1, env.CountRows("accounts"))
	assert.Equal(t, 2, env.CountRows("contracts"))
}

// A catalog's new ids and codes are held to the same check, listing each;
// one the stored catalog has already (stored before the check) is kept, so
// a catalog read back and sent again is still taken.
func TestCatalogIdentifiersMustBeVisibleText(t *testing.T) {
	env := testkit.New(t)
	before := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Body
	cat := demo.Catalog()
	extra := cat.Products[0]
	extra.ID = " prod_extra"
	cat.Products = append(cat.Products, extra)
	code := cat.DiscountCodes[0]
	code.Code = "SAVE\u200b"
	cat.DiscountCodes = append(cat.DiscountCodes, code)
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	problems := strings.Join(toStrings(resp.JSON(t)["problems"]), "\n")
	assert.Contains(t, problems, fmt.Sprintf("products[%d].id \" prod_extra\" must not begin or end with white space", len(cat.Products)-1))
	assert.Contains(t, problems, fmt.Sprintf("discountCodes[%d].code \"SAVE\\u200b\" must not contain control, format or invisible separator characters", len(cat.DiscountCodes)-1))
	assert.Equal(t, string(before), string(env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Body), "nothing stored")

	// A code stored before the check is not migrated: the catalog that holds it is taken again.
	env.Store.DB().MustExec(`UPDATE catalogs SET document = jsonb_set(document, '{discountCodes,0,code}', to_jsonb(U&'LEGACY\200B'::text))
		WHERE tenant_id = $1`, env.A.ID)
	stored := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil)
	require.Contains(t, string(stored.Body), "LEGACY\u200b")
	resp = env.Do("PUT", "/api/catalog", env.A.OperatorKey, stored.Body)
	assert.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}
