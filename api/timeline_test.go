package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seatsOn is a quantity change to n seats dated on a day.
func seatsOn(contractID string, n int, on string) map[string]any {
	body := seats(contractID, n)
	body["effectiveDate"] = on
	return body
}

// seatCount is the seats of a contract's (or a quote's) first line.
func seatCount(t *testing.T, lines any) float64 {
	t.Helper()
	list := lines.([]any)
	require.NotEmpty(t, list)
	for _, p := range list[0].(map[string]any)["products"].([]any) {
		if p.(map[string]any)["productId"] == "prod_seat" {
			return p.(map[string]any)["quantity"].(float64)
		}
	}
	t.Fatalf("no seats in %v", lines)
	return 0
}

// A ramp with a held change in its middle: the timeline lists every phase
// in order, the held one outside the projection, and asOf reads the
// contract on any date of it.
func TestTimelineListsEveryPhaseAndAsOfProjectsIt(t *testing.T) {
	_, router := openAPI(t)
	env := newAmendmentEnv(t)
	c := &conformance{t: t, env: env, router: router}
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	scheduled := func(body map[string]any) string {
		t.Helper()
		resp := change(env, env.A.SubmitterKey, body)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		return resp.JSON(t)["quote"].(map[string]any)["id"].(string)
	}
	april := scheduled(seatsOn(id, 10, "2026-04-01"))
	may := scheduled(seatsOn(id, 20, "2026-05-01"))
	held := seatsOn(id, 15, "2026-06-01")
	held["requireApproval"] = true
	heldResp := change(env, env.A.SubmitterKey, held)
	require.Equal(t, http.StatusAccepted, heldResp.Status, "%s", heldResp.Body)
	june := heldResp.JSON(t)["quote"].(map[string]any)["id"].(string)
	july := scheduled(seatsOn(id, 12, "2026-07-01"))

	tl := c.do("GET", "/api/contracts/"+ct["number"].(string)+"/timeline", env.A.SubmitterKey, nil, http.StatusOK).JSON(t)
	assert.Equal(t, id, tl["contractId"])
	current := tl["current"].(map[string]any)
	assert.EqualValues(t, 1, current["version"])
	assert.EqualValues(t, 5, seatCount(t, current["lines"]))
	phases := tl["phases"].([]any)
	require.Len(t, phases, 4)
	want := []struct {
		id, date, status string
		in               bool
		seats, version   float64
	}{
		{april, "2026-04-01", "SCHEDULED", true, 10, 2},
		{may, "2026-05-01", "SCHEDULED", true, 20, 3},
		{june, "2026-06-01", "REVIEW", false, 15, 4},
		{july, "2026-07-01", "SCHEDULED", true, 12, 4},
	}
	for i, w := range want {
		p := phases[i].(map[string]any)
		after := p["after"].(map[string]any)
		assert.Equal(t, w.id, p["amendmentId"], "phase %d", i)
		assert.Equal(t, w.date, p["effectiveDate"], "phase %d", i)
		assert.Equal(t, w.status, p["status"], "phase %d", i)
		assert.Equal(t, "QUANTITY_CHANGE", p["action"], "phase %d", i)
		assert.Equal(t, w.in, p["inProjection"], "phase %d", i)
		assert.EqualValues(t, 1, p["quoteVersion"], "phase %d", i)
		assert.Equal(t, w.seats, seatCount(t, after["lines"]), "phase %d", i)
		assert.Equal(t, w.version, after["version"], "phase %d", i)
	}
	// The change after the held one was priced without it.
	julyQuote := env.Do("GET", "/api/amendments/"+july, env.A.SubmitterKey, nil).JSON(t)["quote"].(map[string]any)
	assert.EqualValues(t, 20, seatCount(t, julyQuote["linesBefore"]))

	asOf := func(date string) map[string]any {
		return c.do("GET", "/api/contracts/"+id+"?asOf="+date, env.A.SubmitterKey, nil, http.StatusOK).JSON(t)
	}
	for date, seats := range map[string]float64{"2026-03-15": 5, "2026-03-31": 5, "2026-04-01": 10, "2026-06-15": 20, "2027-01-01": 12} {
		got := asOf(date)
		assert.Equal(t, date, got["asOf"])
		assert.Equal(t, seats, seatCount(t, got["lines"]), "asOf %s", date)
	}
	assert.EqualValues(t, 4, asOf("2026-07-01")["version"])

	// Refusals: the past, a date that is not one, a year out of bounds,
	// another tenant's contract.
	c.do("GET", "/api/contracts/"+id+"?asOf=2026-03-14", env.A.SubmitterKey, nil, http.StatusBadRequest)
	c.do("GET", "/api/contracts/"+id+"?asOf=2026-13-01", env.A.SubmitterKey, nil, http.StatusBadRequest)
	c.refused("GET", "/api/contracts/"+id+"?asOf=3000-01-01", env.A.SubmitterKey, nil, http.StatusBadRequest)
	c.do("GET", "/api/contracts/"+id+"?asOf=2026-04-01", env.B.SubmitterKey, nil, http.StatusNotFound)
	c.do("GET", "/api/contracts/"+id+"/timeline", env.B.SubmitterKey, nil, http.StatusNotFound)
	c.do("GET", "/api/contracts/"+id+"/timeline", env.A.ApproverKey, nil, http.StatusOK)
}

// A scheduled cancellation shows in the projection after its date.
func TestAsOfAfterAScheduledCancellation(t *testing.T) {
	env := newAmendmentEnv(t)
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	resp := change(env, env.A.SubmitterKey, map[string]any{"action": "CANCELLATION", "contractId": id, "effectiveDate": "2026-05-01", "payload": nil})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	cancellation := resp.JSON(t)["quote"].(map[string]any)["id"]
	before := env.Do("GET", "/api/contracts/"+id+"?asOf=2026-04-30", env.A.SubmitterKey, nil).JSON(t)
	assert.Equal(t, ct["status"], before["status"])
	assert.Nil(t, before["cancelledBy"])
	after := env.Do("GET", "/api/contracts/"+id+"?asOf=2026-05-01", env.A.SubmitterKey, nil).JSON(t)
	assert.NotEqual(t, ct["status"], after["status"])
	assert.Equal(t, cancellation, after["cancelledBy"])
}

// A preview on either change surface prices against the contract as it
// will be on the change's date: after a scheduled change, from its lines.
func TestPreviewPricesAgainstTheProjection(t *testing.T) {
	_, router := openAPI(t)
	env := newAmendmentEnv(t)
	c := &conformance{t: t, env: env, router: router}
	ct := fiveSeats(env, nil)
	id := ct["id"].(string)
	first := change(env, env.A.SubmitterKey, seatsOn(id, 10, "2026-04-01"))
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	scheduled := first.JSON(t)["quote"].(map[string]any)

	preview := c.do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seatsOn(id, 30, "2026-04-15"), http.StatusOK).JSON(t)
	quote := preview["quote"].(map[string]any)
	assert.Equal(t, "PREVIEW", quote["status"])
	assert.Equal(t, scheduled["linesAfter"], quote["linesBefore"])
	assert.Equal(t, scheduled["recurringAfter"], quote["recurringBefore"])
	// A preview dated before the scheduled change prices the contract as it is.
	now := c.do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, seats(id, 30), http.StatusOK).JSON(t)
	assert.Equal(t, scheduled["linesBefore"], now["quote"].(map[string]any)["linesBefore"])

	// Crossgrade: a downgrade waits for the next period, after a change
	// scheduled for that same day.
	business := fiveSeats(env, map[string]any{"planId": "off_business"})
	bid := business["id"].(string)
	grow := change(env, env.A.SubmitterKey, map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": bid, "effectiveDate": "2026-04-01",
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_business", "products": []any{map[string]any{"productId": "prod_seat", "quantity": 8}},
		}}},
	})
	require.Equal(t, http.StatusOK, grow.Status, "%s", grow.Body)
	grown := grow.JSON(t)["quote"].(map[string]any)
	down := c.do("POST", crossgradePath(business)+"?preview=true", env.A.SubmitterKey, map[string]any{"salesItemCode": "TEAM-M"}, http.StatusOK).JSON(t)
	assert.Nil(t, down["amendment"])
	dq := down["quote"].(map[string]any)
	assert.Equal(t, "PREVIEW", dq["status"])
	assert.Equal(t, "2026-04-01", dq["effectiveDate"])
	assert.Equal(t, grown["linesAfter"], dq["linesBefore"])
	// Nothing was stored: the contract holds its one scheduled change only.
	tl := env.Do("GET", "/api/contracts/"+bid+"/timeline", env.A.SubmitterKey, nil).JSON(t)
	assert.Len(t, tl["phases"], 1)
}
