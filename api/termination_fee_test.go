package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A contract from 2026-01-01 to 2028-01-01 cancelled on 2026-03-15 has 21
// whole months left: the 13-24 band's fee applies.
func TestCancellationAddsTheEarlyTerminationFee(t *testing.T) {
	env := newAmendmentEnv(t)
	id := createTermination(t, env, "Standard early exit")
	resp := patchTermination(env, id, nil,
		chargeItem(1, 0, 12, 10000, "USD"), chargeItem(2, 13, 24, 25000, "USD"), chargeItem(3, 25, 36, 40000, "USD"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	withFee := fiveSeats(env, map[string]any{"contractTerminationId": id})
	preview := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, cancel(withFee["id"]))
	require.Equal(t, http.StatusOK, preview.Status, "%s", preview.Body)
	quote := preview.JSON(t)["quote"].(map[string]any)
	fee := quote["terminationFee"].(map[string]any)
	assert.EqualValues(t, 21, fee["monthsRemaining"])
	assert.EqualValues(t, 25000, fee["amount"])
	// The unused 17 of 31 days are credited (-4387) and the fee charged.
	assert.EqualValues(t, -4387, quote["prorationTotal"])
	assert.EqualValues(t, 25000-4387, quote["invoicePreview"].(map[string]any)["total"])

	applied := change(env, env.A.SubmitterKey, cancel(withFee["id"]))
	require.Equal(t, http.StatusOK, applied.Status, "%s", applied.Body)
	invoice := applied.JSON(t)["invoice"].(map[string]any)
	assert.EqualValues(t, 25000-4387, invoice["total"])
	assert.Len(t, invoice["lines"], 2)

	// The same cancellation with only a year left falls in the 0-12 band.
	env.Clock.Set(today.AddDate(1, 0, 0))
	lateContract := fiveSeats(env, map[string]any{"contractTerminationId": id})
	late := env.Do("POST", "/api/selfService/contract?preview=true", env.A.SubmitterKey, cancel(lateContract["id"]))
	require.Equal(t, http.StatusOK, late.Status, "%s", late.Body)
	assert.EqualValues(t, 10000, late.JSON(t)["quote"].(map[string]any)["terminationFee"].(map[string]any)["amount"])

	// Without a termination definition there is no fee, only the credit.
	plain := fiveSeats(env, nil)
	none := change(env, env.A.SubmitterKey, cancel(plain["id"]))
	require.Equal(t, http.StatusOK, none.Status)
	assert.Nil(t, none.JSON(t)["quote"].(map[string]any)["terminationFee"])
}

func TestContractWithUnknownTerminationIsRefused(t *testing.T) {
	env := newAmendmentEnv(t)
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, createBody("ACC-T", teamItem(map[string]any{"contractTerminationId": 999})))
	require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
	assert.Contains(t, resp.JSON(t)["message"], "contractTerminationId 999")
	assert.Zero(t, env.CountRows("contracts"))
}
