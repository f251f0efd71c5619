package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// An offering's contractTerminationId must be one of the tenant's
// terminations: a catalog naming none (999) or another tenant's is refused
// whole, listing each offering, and nothing is stored. A probe's catalog
// had been stored, and every contract created on the offering without a
// termination of its own was then refused for a field its request never sent.
func TestCatalogRefusesAnOfferingsUnknownTermination(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	own := createTermination(t, env, "Own")
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.B.OperatorKey, demo.Catalog()).Status)
	theirs := createTerminationOf(t, env, env.B, "Tenant B's")
	before := env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Body

	cat := demo.Catalog()
	require.GreaterOrEqual(t, len(cat.Offerings), 2)
	missing := int64(999)
	cat.Offerings[0].ContractTerminationID = &missing
	cat.Offerings[1].ContractTerminationID = &theirs
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	problems := strings.Join(toStrings(resp.JSON(t)["problems"]), "\n")
	assert.Contains(t, problems, "offerings[0] ("+cat.Offerings[0].ID+"): contractTerminationId 999 is not a contract termination of this tenant")
	assert.Contains(t, problems, "offerings[1] ("+cat.Offerings[1].ID+"): contractTerminationId ")
	assert.Equal(t, string(before), string(env.Do("GET", "/api/catalog", env.A.OperatorKey, nil).Body), "nothing stored")

	cat.Offerings[0].ContractTerminationID = &own
	cat.Offerings[1].ContractTerminationID = &own
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat).Status)
	created := env.CreateContract(map[string]any{"planId": cat.Offerings[0].ID})
	assert.EqualValues(t, own, created["contractTerminationId"])
}

// A catalog stored before offerings' terminations were checked may still
// name one that is gone: a contract created on that offering without a
// termination of its own is refused naming the offering, not a field the
// request never sent.
func TestContractOnAnOfferingWithAMissingTerminationNamesTheOffering(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	env.Store.DB().MustExec(`UPDATE catalogs SET document = jsonb_set(document, '{offerings,0,contractTerminationId}', '999')
		WHERE tenant_id = $1`, env.A.ID)
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-LEGACY", teamItem(nil)))
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	msg, _ := resp.JSON(t)["message"].(string)
	assert.Contains(t, msg, `actions[0].createContractWithPlan[0].planId: offering "off_team" defaults to contractTerminationId 999 in the catalog`)
	assert.NotContains(t, msg, "createContractWithPlan[0].contractTerminationId")
	assert.Zero(t, env.CountRows("contracts"))

	// A termination the request names itself is still named as its field.
	resp = env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-LEGACY", teamItem(map[string]any{"contractTerminationId": 998})))
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["message"], "actions[0].createContractWithPlan[0].contractTerminationId 998 is not a contract termination of this tenant")
}

// A termination deleted while a catalog naming it is being stored is never
// left named: the catalog's check and the deletion take turns on the
// catalog's lock, so either the catalog is refused (the termination was
// gone when it was checked) or the deletion detaches the stored offering.
func TestCatalogAndConcurrentTerminationDeleteLeaveNoDanglingDefault(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Deleted meanwhile")
	hold := env.Store.DB().MustBegin()
	t.Cleanup(func() { _ = hold.Rollback() })
	hold.MustExec(`SELECT 1 FROM catalogs WHERE tenant_id = $1 FOR UPDATE`, env.A.ID)

	deleted := make(chan testkit.Response, 1)
	go func() { deleted <- env.Do("DELETE", terminationPath(id, ""), env.A.OperatorKey, nil) }()
	waitForLockWaits(t, env, 1)
	cat := demo.Catalog()
	cat.Offerings[0].ContractTerminationID = &id
	put := make(chan testkit.Response, 1)
	go func() { put <- env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat) }()
	waitForLockWaits(t, env, 2)
	require.NoError(t, hold.Rollback())

	del, stored := <-deleted, <-put
	require.Equal(t, http.StatusOK, del.Status, "%s", del.Body)
	require.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, stored.Status, "%s", stored.Body)
	var dangling int
	require.NoError(t, env.Store.DB().Get(&dangling, `SELECT count(*) FROM catalogs k, jsonb_array_elements(k.document->'offerings') o
		WHERE o ? 'contractTerminationId' AND jsonb_typeof(o->'contractTerminationId') = 'number'
		AND NOT EXISTS (SELECT 1 FROM contract_terminations t WHERE t.tenant_id = k.tenant_id AND t.id = (o->>'contractTerminationId')::bigint)`))
	assert.Zero(t, dangling)
}
