package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/testkit"
)

// A contract action's workflow result carries every contract it created,
// and Temporal refuses a payload over 2 MiB: past about 1,050 contracts the
// workflow could not complete, retried for ever with its contracts
// committed, and its request was never answered. These tests hold a
// request to what fits, and its wait to a bound.

// actionsOf spreads items over actions of at most 100 items each, the most
// one action may list.
func actionsOf(account string, items ...map[string]any) map[string]any {
	var actions []any
	for len(items) > 0 {
		n := min(len(items), 100)
		list := make([]any, n)
		for i := range n {
			list[i] = items[i]
		}
		actions = append(actions, map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": list})
		items = items[n:]
	}
	return map[string]any{"accountNumber": account, "actions": actions}
}

func repeatItem(item map[string]any, n int) []map[string]any {
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = item
	}
	return items
}

func TestContractActionOverTheContractLimitIsRefusedAndCreatesNothing(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	const path = "/api/contract-actions"
	env.CreateContract(nil)
	contracts, actions := env.CountRows("contracts"), env.CountRows("contract_actions")

	// 501 contracts over six actions, each within its own 100.
	resp := env.Do("POST", path, env.A.SubmitterKey, actionsOf("ACC-MANY", repeatItem(teamItem(nil), 501)...), "Idempotency-Key", "too-many")
	requireRefused(t, path, resp, "actions[].createContractWithPlan")
	assert.Contains(t, requireSurfaceError(t, path, resp), "500 items in all")
	assert.Equal(t, contracts, env.CountRows("contracts"), "no contract was created")
	assert.Equal(t, actions, env.CountRows("contract_actions"), "no action was recorded")

	// 500, the limit, are created and answered at once.
	resp = env.Do("POST", path, env.A.SubmitterKey, actionsOf("ACC-MANY", repeatItem(teamItem(nil), 500)...))
	require.Equal(t, http.StatusOK, resp.Status, "%.500s", resp.Body)
	assert.Len(t, resp.JSON(t)["contracts"], 500)
	assert.Equal(t, contracts+500, env.CountRows("contracts"))
}

// bigOffering adds to the demo catalog an offering of 100 products, each
// named in 64 characters, 61 of them char: a contract on it is about 26 kB
// as created, fourteen times one on Team.
func bigOffering(t *testing.T, env *testkit.Env, char string) {
	cat := demo.Catalog()
	big := domain.Offering{ID: "off_big", Name: "Big"}
	prices := map[string]int64{}
	for i := range 100 {
		id := fmt.Sprintf("%s%03d", strings.Repeat(char, 61), i)
		cat.Products = append(cat.Products, domain.Product{ID: id, Name: "Product " + id})
		big.Products = append(big.Products, domain.OfferingProduct{ProductID: id, MinQuantity: 1})
		prices[id] = 100
	}
	big.Rates = []domain.Rate{{ID: "rate_big_monthly_usd", Currency: "USD", BillingPeriod: domain.Monthly, UnitPrices: prices}}
	cat.Offerings = append(cat.Offerings, big)
	resp := env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// Within the limit on their count, contracts that are each large can still
// be more than a workflow's result may carry: the action is refused whole,
// its transaction undone, and its workflow ends.
func TestContractActionTooLargeToCreateIsRefusedAndCreatesNothing(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	const path = "/api/contract-actions"
	bigOffering(t, env, "p")
	item := teamItem(map[string]any{"planId": "off_big"})

	resp := env.Do("POST", path, env.A.SubmitterKey, actionsOf("ACC-BIG", repeatItem(item, 100)...), "Idempotency-Key", "big")
	require.Equal(t, http.StatusBadRequest, resp.Status, "%.500s", resp.Body)
	assert.Contains(t, requireSurfaceError(t, path, resp), "send them in smaller requests")
	assert.Zero(t, env.CountRows("contracts"), "no contract was created")
	assert.Zero(t, env.CountRows("contract_actions"), "no action was recorded")

	// Half as many fit.
	resp = env.Do("POST", path, env.A.SubmitterKey, actionsOf("ACC-BIG", repeatItem(item, 50)...), "Idempotency-Key", "big-half")
	require.Equal(t, http.StatusOK, resp.Status, "%.500s", resp.Body)
	assert.Equal(t, 50, env.CountRows("contracts"))
}

// A contract action whose workflow has not answered within AmendmentWait
// (here, no worker polls) is answered 202 "pending", as the OpenAPI
// document describes: with an Idempotency-Key, a repeat answers with its
// contracts once they exist; without one, the answer says not to send it
// again. Each is made once.
func TestAContractActionNotAnsweredInTimeIsAcceptedAndMadeOnce(t *testing.T) {
	_, router := openAPI(t)
	env := testkit.NewOnBusinessDate(t)
	const path = "/api/contract-actions"
	impatient := env.WithAmendmentWait(300 * time.Millisecond)
	documented := &conformance{t: t, env: impatient, router: router}
	env.StopWorker()

	keyed := createBody("ACC-WAIT", teamItem(nil), teamItem(nil))
	resp := documented.do("POST", path, env.A.SubmitterKey, keyed, http.StatusAccepted, "Idempotency-Key", "wait-1")
	pending := resp.JSON(t)
	assert.Equal(t, "pending", pending["status"])
	assert.Equal(t, "create-contract-with-plan", pending["actionType"])
	assert.Contains(t, pending["message"], "same Idempotency-Key")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	again := impatient.Do("POST", path, env.A.SubmitterKey, keyed, "Idempotency-Key", "wait-1")
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, pending["id"], again.JSON(t)["id"], "the repeat joins the same action")

	keyless := documented.do("POST", path, env.A.SubmitterKey, createBody("ACC-WAIT", teamItem(nil)), http.StatusAccepted)
	assert.Contains(t, keyless.JSON(t)["message"], "do not send the request again")
	assert.Empty(t, keyless.Header.Get("Retry-After"), "a repeat without a key would make them twice")
	assert.Zero(t, env.CountRows("contracts"), "nothing is made while no worker polls")

	env.StartWorker()
	var done testkit.Response
	require.Eventually(t, func() bool {
		done = impatient.Do("POST", path, env.A.SubmitterKey, keyed, "Idempotency-Key", "wait-1")
		return done.Status == http.StatusOK
	}, time.Minute, 100*time.Millisecond)
	assert.Equal(t, pending["id"], done.JSON(t)["id"])
	assert.Len(t, done.JSON(t)["contracts"], 2)
	require.Eventually(t, func() bool { return env.CountRows("contracts") == 3 }, time.Minute, 100*time.Millisecond)
	assert.Equal(t, 2, env.CountRows("contract_actions"), "each action was made once")
}
