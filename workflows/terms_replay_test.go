package workflows_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// termsHistories are the recorded histories of the terms' workflows, and
// the steps each is kept for: "released action" is a contract action as
// released before terms (recorded with that commit's workflow), which the
// contract-terms version keeps replaying; "action" created an auto-renewing contract
// and an expiring one, both back-dated so that their terms end seconds
// later, and started the term workflows of both (the contract-terms
// version, WatchTerms); "renewed" opened the renewal past its notice date,
// slept until the end, tried to open it again, ended the term and watched
// the contract's next;
// "expired", whose term ended the day it was created, found nothing to
// renew and ended the term at once.
var termsHistories = map[string][]string{
	releasedActionHistory: {"CreateContracts"},
	actionHistory:         {"CreateContracts", "contract-terms", "WatchTerms"},
	renewedHistory:        {"OpenRenewal", "EndTerm", "WatchTerms"},
	expiredHistory:        {"OpenRenewal", "EndTerm"},
}

const (
	releasedActionHistory = "testdata/contract_action.v0.json"
	actionHistory         = "testdata/contract_action_terms.v1.json"
	renewedHistory        = "testdata/contract_term_renewed.v1.json"
	expiredHistory        = "testdata/contract_term_expired.v1.json"
)

// TestTermsHistoriesReplay replays termsHistories against today's workflow
// code (TestRecordedHistoriesReplay replays them too) and checks that each
// holds the steps it is kept for. With RECORD_HISTORY=1 it first records
// them again against the real service.
func TestTermsHistoriesReplay(t *testing.T) {
	replayHolding(t, termsHistories, recordTermsHistories)
}

// termLead is how long before its end the recorded terms are created: long
// enough for the request, so that the term workflows wait on a timer.
const termLead = 8 * time.Second

// recordTermsHistories creates the two contracts in one contract action,
// the expiring one's term ending today and the auto-renewing one's
// termLead later, and writes the histories of the action and
// of both terms once they have ended.
func recordTermsHistories(t *testing.T) {
	env := testkit.New(t)
	end := domain.NewDate(2026, time.March, 15)
	env.Clock.Set(end.Time().Add(-termLead))
	contract := func(mode string, end domain.Date) map[string]any {
		return map[string]any{
			"planId": "off_team", "effectiveDate": "2025-03-01", "expirationDate": end.String(), "currency": []string{"USD"},
			"quantities": map[string]int{"prod_seat": 5}, "renewal": map[string]any{"mode": mode, "upliftBasisPoints": 350},
		}
	}
	resp := env.Do("POST", "/api/contract-actions", env.A.SubmitterKey, map[string]any{
		"accountNumber": "ACC-" + uuid.NewString()[:8],
		"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{
			contract(domain.AutoRenew, end), contract(domain.Expire, end.AddDays(-1)),
		}}},
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	action := resp.JSON(t)
	contracts := action["contracts"].([]any)
	require.Len(t, contracts, 2, "%s", resp.Body)
	termOf := func(i int, end domain.Date) string {
		id := contracts[i].(map[string]any)["id"].(string)
		return flow.ContractTermWorkflowID(env.A.ID, id, end)
	}
	writeHistory(t, env.Temporal, flow.ContractActionWorkflowID(env.A.ID, action["id"].(string)), actionHistory)
	writeHistory(t, env.Temporal, termOf(0, end), renewedHistory)
	writeHistory(t, env.Temporal, termOf(1, end.AddDays(-1)), expiredHistory)
}
