package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A body Go's JSON decoder would take but that Postgres would refuse in the
// raw body the service stores, or that would slip past a field's limits,
// is refused at once with a 400: never a 500 from the database after the
// work has begun.
func TestBodiesPostgresWouldRefuseAreRefusedFirst(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	sandbox := env.NewSandboxTenant("SBX")
	quantity := func(q string) string {
		return fmt.Sprintf(`{"action":"QUANTITY_CHANGE","contractId":%q,"payload":{"offerings":[{"offeringId":"off_team",
			"products":[{"productId":"prod_seat","quantity":%s}]}]}}`, ct["id"], q)
	}
	for name, r := range map[string]struct{ path, key, body string }{
		"a stray ] after the body":   {crossgradePath(ct), env.A.SubmitterKey, `{"salesItemCode":"BUSINESS-M"}]`},
		"a stray } after the body":   {"/api/selfService/contract", env.A.SubmitterKey, quantity("6") + "}"},
		"half a surrogate pair":      {crossgradePath(ct), env.A.SubmitterKey, `{"salesItemCode":"BUSINESS-M","referrer":"a\ud800b"}`},
		"the other half alone":       {crossgradePath(ct), env.A.SubmitterKey, `{"salesItemCode":"BUSINESS-M","referrer":"\udc00"}`},
		"16,384 decimals":            {"/api/selfService/contract", env.A.SubmitterKey, quantity("5." + strings.Repeat("0", 16384))},
		"an exponent of 1001":        {"/api/selfService/contract", env.A.SubmitterKey, quantity("5e1001")},
		"Name, past name's length":   {"/api/test-clocks", sandbox.OperatorKey, `{"Name":"` + strings.Repeat("x", 300) + `","frozenTime":"2027-01-01T09:00:00Z"}`},
		"FROZENTIME, past its years": {"/api/test-clocks", sandbox.OperatorKey, `{"name":"late","FROZENTIME":"9999-12-31T23:00:00-23:00"}`},
	} {
		got := env.Do("POST", r.path, r.key, r.body)
		assert.Equal(t, http.StatusBadRequest, got.Status, "%s: %s", name, got.Body)
	}

	whole := env.Do("POST", crossgradePath(ct), env.A.SubmitterKey, `{"salesItemCode":"BUSINESS-M","referrer":"smile \ud83d\ude00 \\ud800"}`)
	assert.Equal(t, http.StatusOK, whole.Status, "a whole pair, and an escaped backslash before u: %s", whole.Body)
}
