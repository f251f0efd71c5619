package modeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// world is what the clients share: the service, the contracts they created
// and the amendments they saw held (REVIEW) or waiting (SCHEDULED).
type world struct {
	env  *testkit.Env
	http *http.Client

	mu         sync.Mutex
	contracts  []string
	held       []string
	answers    map[string]map[int]int
	violations []string
}

// requestTimeout bounds every request: an answer later than this is a hang.
const requestTimeout = 2 * time.Minute

func newWorld(env *testkit.Env) *world {
	return &world{env: env, http: &http.Client{Timeout: requestTimeout}, answers: map[string]map[int]int{}}
}

// do sends a request and decodes a JSON answer into out (when not nil and
// the answer is JSON). key goes in the header the surface expects.
func (w *world) do(method, path string, auth [2]string, body any, out any) (int, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, w.env.HTTP.URL+path, reader)
	if err != nil {
		return 0, err
	}
	req.Header.Set(auth[0], auth[1])
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %s: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, nil
}

func bearer(key string) [2]string { return [2]string{"Authorization", "Bearer " + key} }

func (w *world) submitter() [2]string { return bearer(w.env.A.SubmitterKey) }
func (w *world) approver() [2]string  { return bearer(w.env.A.ApproverKey) }
func (w *world) operator() [2]string  { return bearer(w.env.A.OperatorKey) }

// setApprovalRules holds large increases for review, so approvals and
// rejections have work besides the changes sent with requireApproval.
func (w *world) setApprovalRules(t *testing.T) {
	status, err := w.do("PUT", "/api/approval-rules", w.operator(), map[string]any{"rules": []any{
		map[string]any{"id": "big", "name": "Large increases", "when": "quote.recurringDelta > 20000"},
	}}, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func (w *world) randomContract(rng *rand.Rand) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.contracts) == 0 {
		return uuid.NewString()
	}
	return w.contracts[rng.IntN(len(w.contracts))]
}

// takeHeld removes and returns a random held amendment ("" when none).
func (w *world) takeHeld(rng *rand.Rand) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return ""
	}
	i := rng.IntN(len(w.held))
	id := w.held[i]
	w.held = append(w.held[:i], w.held[i+1:]...)
	return id
}

func (w *world) remember(list *[]string, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*list = append(*list, id)
}

// paymentMethods are the sandbox's: most pay, some decline, some are flaky.
var paymentMethods = []string{"pm_card_ok", "pm_card_ok", "pm_card_ok", "pm_declined", "pm_flaky"}

func (w *world) createContract(rng *rand.Rand) (int, error) {
	plan := []string{"off_team", "off_business"}[rng.IntN(2)]
	item := map[string]any{
		"planId": plan, "effectiveDate": "2026-01-01", "expirationDate": "2028-01-01", "currency": []string{"USD"},
		"quantities": map[string]int{"prod_seat": 5 + rng.IntN(10)}, "paymentMethod": paymentMethods[rng.IntN(len(paymentMethods))],
	}
	var out struct {
		ContractID string `json:"contractId"`
	}
	status, err := w.do("POST", "/api/contract-actions", w.submitter(), map[string]any{
		"accountNumber": "ACC-" + strconv.Itoa(rng.IntN(1_000_000)),
		"actions":       []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{item}}},
	}, &out)
	if err == nil && status == http.StatusOK {
		w.remember(&w.contracts, out.ContractID)
	}
	return status, err
}

// contract is what a client reads before choosing a change.
type contract struct {
	ID         string `json:"id"`
	CustomerID string `json:"customerId"`
	Ref        int64  `json:"ref"`
	Status     string `json:"status"`
	Lines      []struct {
		OfferingID string `json:"offeringId"`
		RateID     string `json:"rateId"`
	} `json:"lines"`
}

// readContract reads a random contract. A cancelled one leaves the pool, so
// that most changes go to contracts that can take them; the change is still
// sent, and must be refused.
func (w *world) readContract(rng *rand.Rand) (contract, int, error) {
	var ct contract
	status, err := w.do("GET", "/api/contracts/"+w.randomContract(rng), w.submitter(), nil, &ct)
	if err == nil && status == http.StatusOK && ct.Status == "canceled" {
		w.forget(ct.ID)
	}
	return ct, status, err
}

func (w *world) forget(contractID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.contracts, contractID); i >= 0 {
		w.contracts = slices.Delete(w.contracts, i, i+1)
	}
}

// selfService submits one of the six actions. A change is immediate, dated
// up to three weeks ahead (SCHEDULED) or sent for approval (REVIEW); one held
// or waiting is remembered for approvals, rejections and withdrawals. A
// change of billing period takes effect at the next bill cycle, as it must.
func (w *world) selfService(rng *rand.Rand, action string, periodChange bool, payload func(contract) any) (int, error) {
	ct, status, err := w.readContract(rng)
	if err != nil || status != http.StatusOK {
		return status, err
	}
	body := map[string]any{"action": action, "contractId": ct.ID, "payload": payload(ct)}
	switch {
	case periodChange:
		body["relativeEffectiveDate"] = "NEXT_BILL_CYCLE"
	case rng.IntN(6) == 0:
		body["effectiveDate"] = today.AddDate(0, 0, 1+rng.IntN(21)).Format(time.DateOnly)
	}
	if rng.IntN(6) == 0 {
		body["requireApproval"] = true
	}
	var out struct {
		Quote struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"quote"`
	}
	status, err = w.do("POST", "/api/selfService/contract", w.submitter(), body, &out)
	if err == nil && status < 300 && (out.Quote.Status == "REVIEW" || out.Quote.Status == "SCHEDULED") {
		w.remember(&w.held, out.Quote.ID)
	}
	return status, err
}

func offerings(items ...map[string]any) map[string]any {
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	return map[string]any{"offerings": list}
}

func seatsOn(offering string, n int) map[string]any {
	return map[string]any{"offeringId": offering, "products": []any{map[string]any{"productId": "prod_seat", "quantity": n}}}
}

// firstOffering is the contract's first line's offering, or off_team.
func (ct contract) firstOffering() string {
	if len(ct.Lines) == 0 {
		return "off_team"
	}
	return ct.Lines[0].OfferingID
}

func (w *world) quantityChange(rng *rand.Rand) (int, error) {
	n := 5 + rng.IntN(40)
	return w.selfService(rng, "QUANTITY_CHANGE", false, func(ct contract) any { return offerings(seatsOn(ct.firstOffering(), n)) })
}

func (w *world) addOffering(rng *rand.Rand) (int, error) {
	return w.selfService(rng, "ADD_OFFERING", false, func(contract) any {
		return offerings(map[string]any{"offeringId": "off_sports", "products": []any{}})
	})
}

func (w *world) removeOffering(rng *rand.Rand) (int, error) {
	return w.selfService(rng, "REMOVE_OFFERING", false, func(ct contract) any {
		if len(ct.Lines) > 1 {
			return offerings(map[string]any{"offeringId": ct.Lines[len(ct.Lines)-1].OfferingID})
		}
		return offerings(map[string]any{"offeringId": "off_sports"})
	})
}

func (w *world) offeringChange(rng *rand.Rand) (int, error) {
	n := 5 + rng.IntN(20)
	return w.selfService(rng, "OFFERING_CHANGE", false, func(ct contract) any {
		to := map[string]string{"off_team": "off_business", "off_business": "off_team"}[ct.firstOffering()]
		item := seatsOn(ct.firstOffering(), n)
		item["newOfferingId"] = to
		return offerings(item)
	})
}

// otherRate is the rate a RATE_CHANGE moves a line to.
var otherRate = map[string]string{
	"rate_team_monthly_usd": "rate_team_annual_usd", "rate_team_annual_usd": "rate_team_monthly_usd",
	"rate_business_monthly_usd": "rate_business_quarterly_usd", "rate_business_quarterly_usd": "rate_business_monthly_usd",
}

func (w *world) rateChange(rng *rand.Rand) (int, error) {
	n := 5 + rng.IntN(20)
	return w.selfService(rng, "RATE_CHANGE", true, func(ct contract) any {
		item := seatsOn(ct.firstOffering(), n)
		if len(ct.Lines) > 0 {
			item["rateId"] = otherRate[ct.Lines[0].RateID]
		}
		return offerings(item)
	})
}

func (w *world) cancellation(rng *rand.Rand) (int, error) {
	return w.selfService(rng, "CANCELLATION", false, func(contract) any { return nil })
}

// crossgradeTargets are the demo catalog's paths from each sales item (the
// sports pack, which needs a viewing card, aside); a contract on another
// item tries one anyway and is refused. Half the crossgrades bring the
// discount code.
var crossgradeTargets = map[string][]string{
	"rate_team_monthly_usd":     {"BUSINESS-M", "TEAM-A"},
	"rate_business_monthly_usd": {"TEAM-M", "BUSINESS-Q"},
}

func (w *world) crossgrade(rng *rand.Rand) (int, error) {
	ct, status, err := w.readContract(rng)
	if err != nil || status != http.StatusOK {
		return status, err
	}
	targets := []string{"TEAM-M"}
	if len(ct.Lines) > 0 && crossgradeTargets[ct.Lines[0].RateID] != nil {
		targets = crossgradeTargets[ct.Lines[0].RateID]
	}
	body := map[string]any{"salesItemCode": targets[rng.IntN(len(targets))]}
	if rng.IntN(2) == 0 {
		body["discountCode"] = map[string]any{"code": "WELCOME10"}
	}
	return w.do("POST", fmt.Sprintf("/api/customers/%s/contracts/%d/crossgrade", ct.CustomerID, ct.Ref), w.submitter(), body, nil)
}

// decide approves or rejects an item of the approvers' inbox.
func (w *world) decide(rng *rand.Rand, decision string) (int, error) {
	var inbox struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	status, err := w.do("GET", "/api/approvals?pageSize=50", w.approver(), nil, &inbox)
	if err != nil || status != http.StatusOK || len(inbox.Items) == 0 {
		return status, err
	}
	id := inbox.Items[rng.IntN(len(inbox.Items))].ID
	return w.do("POST", "/api/amendments/"+id+"/"+decision, w.approver(), map[string]any{"comment": "model run"}, nil)
}

func (w *world) approve(rng *rand.Rand) (int, error) { return w.decide(rng, "approve") }
func (w *world) reject(rng *rand.Rand) (int, error)  { return w.decide(rng, "reject") }

func (w *world) withdraw(rng *rand.Rand) (int, error) {
	id := w.takeHeld(rng)
	if id == "" {
		id = uuid.NewString() // nothing held: a withdrawal of an unknown amendment is a 404
	}
	return w.do("POST", "/api/amendments/"+id+"/withdraw", w.submitter(), nil, nil)
}

func (w *world) schedule(rng *rand.Rand, action string) (int, error) {
	path := "/api/v3/client/" + w.env.A.Prefix + "/contract/" + w.randomContract(rng) + "/" + action
	if action == "restartSchedule" {
		path += "?comment=" + url.QueryEscape("model run")
	}
	return w.do("POST", path, [2]string{"apiKey", w.env.A.SubmitterKey}, nil, nil)
}

func (w *world) cancelSchedule(rng *rand.Rand) (int, error) { return w.schedule(rng, "cancelSchedule") }
func (w *world) restartSchedule(rng *rand.Rand) (int, error) {
	return w.schedule(rng, "restartSchedule")
}

func (w *world) billingRun(*rand.Rand) (int, error) {
	return w.do("POST", "/api/billing/run", w.operator(), map[string]any{"asOf": today.Format(time.DateOnly)}, nil)
}
