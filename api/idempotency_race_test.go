package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Two requests sent at once with one Idempotency-Key and different bodies
// make one change, and only the request whose body made it is told so: the
// other is refused as one after the other would be. A probe saw both told
// 200 with the other's change.
func TestOneKeyWithTwoBodiesAtOnceTellsOnlyTheFirstItsChange(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	for round := range 6 {
		key := fmt.Sprintf("race-%d", round)
		wanted := []int{6 + 2*round, 7 + 2*round}
		answers := make([]map[string]any, len(wanted))
		statuses := make([]int, len(wanted))
		var wg sync.WaitGroup
		for i, n := range wanted {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := change(env, env.A.SubmitterKey, seats(id, n), "Idempotency-Key", key)
				statuses[i], answers[i] = r.Status, r.JSON(t)
			}()
		}
		wg.Wait()
		made := 0
		for i, n := range wanted {
			switch statuses[i] {
			case http.StatusOK:
				made++
				assert.Equal(t, float64(n), seatQuantity(t, answers[i]), "round %d: answered 200 for %d seats", round, n)
			default:
				assert.Equal(t, http.StatusUnprocessableEntity, statuses[i], "round %d: %v", round, answers[i]["errorMessage"])
				assert.Contains(t, answers[i]["errorMessage"], "Idempotency-Key was already used with a different request body")
			}
		}
		require.Equal(t, 1, made, "round %d: %v", round, statuses)
	}
}

// seatQuantity is the seat count of the contract a self-service answer shows.
func seatQuantity(t *testing.T, answer map[string]any) float64 {
	t.Helper()
	ct, _ := answer["contract"].(map[string]any)
	lines, _ := ct["lines"].([]any)
	for _, l := range lines {
		for _, p := range l.(map[string]any)["products"].([]any) {
			if p := p.(map[string]any); p["productId"] == "prod_seat" {
				return p["quantity"].(float64)
			}
		}
	}
	t.Fatalf("no seats in %v", answer)
	return 0
}

// The same on the crossgrade surface, refused in its own format: one key sent
// at once with and without a discount makes one crossgrade, with a discount
// only if the request told 200 asked for one (a probe saw the discount go to
// the request that had not).
func TestOneKeyWithTwoCrossgradesAtOnceMakesTheOneItAnswers(t *testing.T) {
	env := newAmendmentEnv(t)
	bodies := []map[string]any{
		{"salesItemCode": "BUSINESS-M"},
		{"salesItemCode": "BUSINESS-M", "discountCode": map[string]any{"code": "WELCOME10"}},
	}
	for round := range 4 {
		ct := fiveSeats(env, nil)
		answers := make([]testkit.Response, len(bodies))
		var wg sync.WaitGroup
		for i, body := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = crossgrade(env, ct, body, "Idempotency-Key", fmt.Sprintf("upgrade-%d", round))
			}()
		}
		wg.Wait()
		made := 0
		for i, r := range answers {
			if r.Status != http.StatusOK {
				// The crossgrade surface's refusal: 400 with a fault.
				assert.Equal(t, http.StatusBadRequest, r.Status, "round %d: %s", round, r.Body)
				assert.Contains(t, string(r.Body), "Idempotency-Key was already used with a different request body")
				continue
			}
			made++
			_, discounted := r.JSON(t)["contract"].(map[string]any)["discount"]
			assert.Equal(t, i == 1, discounted, "round %d: answered 200 to %v", round, bodies[i])
		}
		require.Equal(t, 1, made, "round %d: %d and %d", round, answers[0].Status, answers[1].Status)
	}
}

// Copies of one request sent at once with its Idempotency-Key are all told
// its change, even a copy that found no earlier request with the key and
// was then priced on the contract the first copy had just changed (the
// offering it adds already on it). A probe saw such copies told 422 for a
// change that was made.
func TestCopiesOfOneRequestSentAtOnceAreAllToldItsChange(t *testing.T) {
	env := newAmendmentEnv(t)
	const rounds, copies = 12, 8
	for round := range rounds {
		id := fiveSeats(env, nil)["id"].(string)
		body := map[string]any{"action": "ADD_OFFERING", "contractId": id, "payload": map[string]any{"offerings": []any{
			map[string]any{"offeringId": "off_business", "products": []any{map[string]any{"productId": "prod_seat", "quantity": 5}}},
		}}}
		answers := make([]testkit.Response, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = change(env, env.A.SubmitterKey, body, "Idempotency-Key", fmt.Sprintf("add-%d", round))
			}()
		}
		wg.Wait()
		made := map[any]bool{}
		for _, r := range answers {
			require.Equal(t, http.StatusOK, r.Status, "round %d: %s", round, r.Body)
			made[r.JSON(t)["quote"].(map[string]any)["id"]] = true
		}
		require.Len(t, made, 1, "round %d: one amendment", round)
	}
}

// A request with an Idempotency-Key whose own change fails after it was
// opened (a declined payment) is told why, as one without a key is; its
// retry is told that the crossgrade failed, not 202 Accepted with the FAILED
// amendment.
func TestAKeyedCrossgradeWhosePaymentIsDeclinedIsToldSo(t *testing.T) {
	env := newAmendmentEnv(t)
	declined := fiveSeats(env, map[string]any{"paymentMethod": "pm_declined"})
	upgrade := map[string]any{"salesItemCode": "BUSINESS-M"}
	first := crossgrade(env, declined, upgrade, "Idempotency-Key", "declined-upgrade")
	requireFault(t, first, http.StatusBadRequest, 90045, "PaymentAuthorisationFault")
	retry := crossgrade(env, declined, upgrade, "Idempotency-Key", "declined-upgrade")
	requireFault(t, retry, http.StatusBadRequest, 90063, "UnableToCrossgradeFault")
	assert.Contains(t, retry.JSON(t)["detail"], "is FAILED")
}
