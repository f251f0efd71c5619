package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Seed fidelity and conformance for crossgrade-change-contract.txt. The seed
// has no sample bodies; its fault table and body parameters are walked
// instead, with the demo catalog's sales items (TEAM-M, BUSINESS-M,
// SPORTS-M, ...) and viewing cards.

// seedFaults are the seed's table rows this file produces: status, code,
// fault and the suggested user message, verbatim.
var seedFaults = map[int]struct {
	status  int
	fault   string
	message string
}{
	90029: {400, "InvalidStateForCrossgradeFault", "Contract cannot be crossgraded"},
	90041: {404, "NoContractFoundFault", "Contract ID does not exist"},
	90018: {400, "InvalidCrossgradePathFault", "Contract cannot be crossgraded to this item"},
	90077: {400, "VCNCurrencyMismatchFault", "Viewing Card is not set for provided currency"},
	90063: {400, "UnableToCrossgradeFault", "Crossgrade cannot be completed"},
	90079: {400, "VCNRequiredFault", "A Viewing Card is required for this purchase"},
	90045: {400, "PaymentAuthorisationFault", "Payment attempt failed"},
	90031: {400, "InvalidVCNFault", "Viewing Card provided is Invalid"},
	90078: {400, "VCNInUseFault", "This viewing card is already in use on another record"},
	90022: {404, "InvalidDiscountCodeFault", "Discount does not exist"},
}

func requireSeedFault(t *testing.T, e *testkit.Env, path, key string, body any, code int) map[string]any {
	t.Helper()
	resp := e.Do("POST", path, key, body)
	want := seedFaults[code]
	require.Equal(t, want.status, resp.Status, "%s", resp.Body)
	got := resp.JSON(t)
	assert.EqualValues(t, code, got["faultCode"], "%s", resp.Body)
	assert.Equal(t, want.fault, got["fault"])
	assert.Equal(t, want.message, got["message"])
	return got
}

func TestSeedCrossgradeFaultPrecedence(t *testing.T) {
	e := newAmendmentEnv(t)
	ct := fiveSeats(e, nil)
	path := crossgradePath(ct)
	key := e.A.SubmitterKey
	fiveSeats(e, map[string]any{"viewingCardNumber": "79927398713"}) // holds the card "in use" below
	cancelled := fiveSeats(e, nil)
	require.Equal(t, http.StatusOK, change(e, key, cancel(cancelled["id"])).Status)
	// One seat and no storage (1500 a month) moving to SPORTS-M (1999) is an
	// upgrade, paid up front: the payment faults can apply.
	cheap := func(paymentMethod string) map[string]any {
		return e.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 1, "prod_storage": 0}, "paymentMethod": paymentMethod})
	}
	declined, unavailable := cheap("pm_declined"), cheap("pm_unavailable")
	longReferrer := strings.Repeat("r", 51)
	eurCard, usedCard, badCard := "5555555555554444", "79927398713", "4111111111111112"

	// Seed: "Response Code | Fault Code | Fault | Suggested User Message", one row per fault,
	// in this order: 90029, 90041, 90018, 90077, 90063, 90079, 90045, 90050, 90031, 90061, 90078, 90022.
	// One case per adjacent pair of rows that can apply together; the README's table names the rest.
	cases := []struct {
		name string
		path string
		body map[string]any
		want int
	}{
		{"90041 before 90018: unknown contract, unknown item", strings.Replace(path, formatRef(ct["ref"]), "999999", 1),
			map[string]any{"salesItemCode": "GOLD"}, 90041},
		{"90018 before 90077: no path, card in another currency", path,
			map[string]any{"salesItemCode": "BUSINESS-Q", "viewingCardNumber": eurCard}, 90018},
		{"90077 before 90063: card in another currency, referrer too long", path,
			map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": eurCard, "referrer": longReferrer}, 90077},
		{"90063 before 90079: referrer too long, card required", path,
			map[string]any{"salesItemCode": "SPORTS-M", "referrer": longReferrer}, 90063},
		{"90079 before 90045: card required, payment would be declined", crossgradePath(declined),
			map[string]any{"salesItemCode": "SPORTS-M"}, 90079},
		{"90031 before 90050 (where we differ): invalid card, payment system down", crossgradePath(unavailable),
			map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": badCard}, 90031},
		{"90078 before 90022: card in use, unknown discount", path,
			map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": usedCard, "discountCode": map[string]any{"code": "FREE"}}, 90078},
		// The cases, rows apart in the table.
		{"90079 before 90022: card required, unknown discount", path,
			map[string]any{"salesItemCode": "SPORTS-M", "discountCode": map[string]any{"code": "FREE"}}, 90079},
		{"90029 before 90063: cancelled contract, referrer too long", crossgradePath(cancelled),
			map[string]any{"salesItemCode": "BUSINESS-M", "referrer": longReferrer}, 90029},
		{"90018 before 90063: no path, referrer too long", path,
			map[string]any{"salesItemCode": "BUSINESS-Q", "referrer": longReferrer}, 90018},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireSeedFault(t, e, tc.path, key, tc.body, tc.want)
		})
	}

	// The declined contract's payment fault is real: with a card, 90045.
	requireSeedFault(t, e, crossgradePath(declined), key, map[string]any{"salesItemCode": "SPORTS-M", "viewingCardNumber": "4111111111111111"}, 90045)
}

func TestSeedCrossgradeFidelity(t *testing.T) {
	e := newAmendmentEnv(t)
	ct := fiveSeats(e, nil)

	t.Run("a missing salesItemCode is named in detail", func(t *testing.T) {
		// Seed, Body Params: "string required The sales item code for the item to be changed to."
		got := requireSeedFault(t, e, crossgradePath(ct), e.A.SubmitterKey, map[string]any{"referrer": "spring"}, 90018)
		assert.Equal(t, "salesItemCode is required", got["detail"])
	})

	t.Run("401 and 403 carry the fault format", func(t *testing.T) {
		// Seed: "Response Code | Fault Code | Fault | Suggested User Message".
		for _, tc := range []struct {
			key    string
			status int
			code   int
			fault  string
		}{
			{"", http.StatusUnauthorized, 90401, "AuthenticationFault"},
			{"not-a-key", http.StatusUnauthorized, 90401, "AuthenticationFault"},
			{e.A.ApproverKey, http.StatusForbidden, 90403, "AuthorisationFault"},
		} {
			resp := e.Do("POST", crossgradePath(ct), tc.key, map[string]any{"salesItemCode": "BUSINESS-M"})
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			body := resp.JSON(t)
			assert.EqualValues(t, tc.code, body["faultCode"])
			assert.Equal(t, tc.fault, body["fault"])
			assert.NotEmpty(t, body["message"])
		}
	})

	t.Run("the body parameters as the seed lists them", func(t *testing.T) {
		// Seed, Body Params: salesItemCode (required), referrer (length ≤ 50), discountCode
		// (object), and the flag "whether a downgrade request should be performed immediately".
		up := e.Do("POST", crossgradePath(ct), e.A.SubmitterKey, map[string]any{
			"salesItemCode": "BUSINESS-M", "referrer": strings.Repeat("r", 50), "discountCode": map[string]any{"code": "WELCOME10"}})
		require.Equal(t, http.StatusOK, up.Status, "%s", up.Body)
		assert.Equal(t, "APPLIED", up.JSON(t)["amendment"].(map[string]any)["status"])

		down := e.Do("POST", crossgradePath(ct), e.A.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M", "downgradeImmediately": true})
		require.Equal(t, http.StatusOK, down.Status, "%s", down.Body)
		assert.Equal(t, "APPLIED", down.JSON(t)["amendment"].(map[string]any)["status"])
	})
}
