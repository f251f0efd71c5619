package api

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
)

// Each surface's body is fuzzed through what its handler does before it
// touches Postgres or Temporal: strict decoding, then validation. Whatever
// the bytes, the outcome must be acceptance or a refusal the surface answers
// with a 4xx; a panic or a 500 is a bug.

// requireRefusal fails the fuzz input unless err is nil or a client error.
func requireRefusal(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/", nil)
	s := &server{Deps: Deps{Logger: slog.New(slog.DiscardHandler)}}
	if f := s.classify(c, err); f.Status >= 500 {
		t.Fatalf("answered %d: %v", f.Status, err)
	}
}

// fuzzBody decodes each input into a T as the surface does and, when that
// succeeds, validates it with check.
func fuzzBody[T any](f *testing.F, seeds []string, check func(T) error) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v T
		err := decodeStrict(body, &v)
		if err == nil {
			err = check(v)
		}
		requireRefusal(t, err)
	})
}

func FuzzContractActionsBody(f *testing.F) {
	cat := demo.Catalog()
	fuzzBody(f, []string{
		`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": ["USD"], "quantities": {"prod_seat": 5}}]}]}`,
		`{"accountNumber": "ACC-1", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-02-30", "currency": ["EUR", "USD"], "billingCycleDay": 31, "rateId": "x", "contractTerminationId": -1}]}]}`,
		`{"accountNumber": "", "actions": []}`,
		`{"actions": null}`,
		``,
	}, func(r contractActionsRequest) error {
		requested, err := r.validate()
		if err != nil {
			return err
		}
		_, err = domain.PlanContracts(&cat, requested)
		return err
	})
}

func FuzzSelfServiceBody(f *testing.F) {
	fuzzBody(f, []string{
		`{"action": "QUANTITY_CHANGE", "contractId": "CT-0000000001", "payload": {"offerings": [{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": 11}]}]}}`,
		`{"action": "RATE_CHANGE", "contractId": "CT-0000000001", "relativeEffectiveDate": "NEXT_BILL_CYCLE", "payload": {"offerings": [{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}]}}`,
		`{"action": "CANCELLATION", "contractId": "1", "payload": null, "effectiveDate": "2026-13-01", "requireApproval": true}`,
		`{"action": "ADD_OFFERING", "contractId": "x", "payload": {"offerings": [{}]}}`,
	}, func(ch domain.Change) error { return ch.Validate() })
}

func FuzzCrossgradeBody(f *testing.F) {
	fuzzBody(f, []string{
		`{"salesItemCode": "BUSINESS-M", "referrer": "spring-campaign", "discountCode": {"code": "WELCOME10"}}`,
		`{"salesItemCode": "TEAM-A", "downgradeImmediately": true, "viewingCardNumber": "123456789"}`,
		`{"discountCode": null}`,
	}, func(crossgradeRequest) error { return nil })
}

func FuzzTerminationPatchBody(f *testing.F) {
	fuzzBody(f, []string{
		`{"details": {}, "contractTerminationPeriodCharges": {"items": [{"patchType": "create", "patchClientId": 1, "startMonth": 0, "endMonth": 12, "amount": 10000, "currency": "USD"}, {"patchType": "update", "patchClientId": 2, "identity": 7, "startMonth": 13, "endMonth": 24, "amount": 25000, "currency": "USD"}]}}`,
		`{"contractTerminations": {"items": [{"patchType": "delete", "patchClientId": 1, "identity": 1}, {"patchType": "create", "patchClientId": 1, "penaltyServiceId": 1, "name": "x"}]}}`,
		`{"details": {}}`,
	}, func(p terminationPatch) error { return p.check() })
}

func FuzzCatalogDocument(f *testing.F) {
	seed, err := json.Marshal(demo.Catalog())
	if err != nil {
		f.Fatal(err)
	}
	fuzzBody(f, []string{
		string(seed),
		`{"products": [{"id": "p", "name": "P"}], "offerings": [{"id": "o", "name": "O", "products": [{"productId": "p", "minQuantity": 3, "maxQuantity": 1}], "rates": [{"id": "r", "currency": "usd", "billingPeriod": "WEEKLY", "unitPrices": {"q": -1}}]}], "salesItems": [{"code": "S", "offeringId": "o", "rateId": "nope"}], "crossgradePaths": [{}], "discountCodes": [{}], "viewingCards": [{}], "penaltyServices": [{"id": 0}]}`,
		`{}`,
	}, func(c domain.Catalog) error { return c.Validate() })
}
