package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"
)

// The kinds here leave an amendment open on their contract, each through the
// real API and its workflow, to build up a tenant's pending work for scale
// measurements (with hold and park, client.go).

// ramp schedules a seat change on a date from one to three hundred days
// ahead: a SCHEDULED amendment whose workflow waits for its date.
func ramp(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	body := seatChange(ct, map[string]any{
		"effectiveDate": time.Now().UTC().AddDate(0, 0, 1+rand.IntN(300)).Format("2006-01-02"),
	})
	c.timed(ctx, rec, "ramp", http.StatusOK, "POST", "/api/selfService/contract", c.submitterKey, body)
}

// grow asks for thirty seats (from five or six), for a tenant whose approval
// rule holds such a change in REVIEW, e.g. "quote.recurringDelta >= 20000"
// (PUT it with the operator key first; see the README's Performance
// section): an amendment a rule held, where hold asks for approval itself.
func grow(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	body := seatChange(ct, nil)
	body["payload"] = map[string]any{"offerings": []any{map[string]any{
		"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": 30}},
	}}}
	c.timed(ctx, rec, "grow", http.StatusAccepted, "POST", "/api/selfService/contract", c.submitterKey, body)
}
