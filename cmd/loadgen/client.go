package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

type apiClient struct {
	http         *http.Client
	bases        []string      // the APIs' base URLs, taken in turn
	next         atomic.Uint64 // which base the next request goes to
	submitterKey string
	approverKey  string
	prefix       string
	sample       *sample // what the read kinds pick from
}

func newClient(o options) *apiClient {
	return &apiClient{
		http:         &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		bases:        strings.Split(o.baseURL, ","),
		submitterKey: o.submitterKey,
		approverKey:  o.approverKey,
		prefix:       o.prefix,
		sample:       o.sample,
	}
}

// contract is one contract a client works on; seats alternate so every
// quantity change changes something.
type contract struct {
	id    string
	seats int
}

// answer is a response; its body is decoded only by the kinds that read it,
// so that the tool spends little of the machine it measures.
type answer struct {
	status int
	raw    []byte
}

// body decodes a JSON answer; nil for one in plain text (DDCMS answers so).
func (a answer) body() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.raw, &m)
	return m
}

func (c *apiClient) do(ctx context.Context, method, path, key string, body any) (answer, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		reader = bytes.NewReader(raw)
	}
	// Round robin over the APIs: with several API processes every one of
	// them serves every kind of request, as behind a load balancer.
	base := c.bases[(c.next.Add(1)-1)%uint64(len(c.bases))]
	req, err := http.NewRequestWithContext(ctx, method, base+path, reader)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("apiKey", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, raw: raw}, nil
}

func (c *apiClient) createContracts(ctx context.Context, n int) ([]*contract, error) {
	out := make([]*contract, 0, n)
	for i := 0; i < n; i++ {
		a, err := c.do(ctx, "POST", "/api/contract-actions", c.submitterKey, map[string]any{
			"accountNumber": fmt.Sprintf("LOAD-%d-%d", time.Now().UnixNano(), i),
			"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
				"planId": "off_team", "effectiveDate": time.Now().UTC().Format("2006-01-02"),
				"expirationDate": time.Now().UTC().AddDate(3, 0, 0).Format("2006-01-02"), "currency": []string{"USD"},
				"quantities": map[string]int{"prod_seat": 5},
			}}}},
		})
		if err != nil {
			return nil, err
		}
		if a.status != http.StatusOK {
			return nil, fmt.Errorf("create contract: HTTP %d %s", a.status, a.raw)
		}
		id, _ := a.body()["contractId"].(string)
		out = append(out, &contract{id: id, seats: 5})
	}
	return out, nil
}

// kind sends one measured request (or flow) on a contract.
type kind func(ctx context.Context, c *apiClient, ct *contract, rec *recorder)

var kinds = map[string]kind{
	"immediate": immediate,
	"nextcycle": nextCycle,
	"review":    review,
	"preview":   preview,
	"schedule":  scheduleToggle,
	"hold":      hold,
	"park":      park,
	"ramp":      ramp,
	"grow":      grow,
}

func kindNames() []string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (c *apiClient) timed(ctx context.Context, rec *recorder, name string, want int, method, path, key string, body any) (answer, bool) {
	start := time.Now()
	a, err := c.do(ctx, method, path, key, body)
	d := time.Since(start)
	if err != nil {
		rec.record(name, d, "transport-error", false)
		return a, false
	}
	ok := a.status == want
	rec.record(name, d, strconv.Itoa(a.status), ok)
	return a, ok
}

func seatChange(ct *contract, extra map[string]any) map[string]any {
	ct.seats = 11 - ct.seats // 5 <-> 6
	body := map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": ct.id,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": ct.seats}},
		}}},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func immediate(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	c.timed(ctx, rec, "immediate", http.StatusOK, "POST", "/api/selfService/contract", c.submitterKey, seatChange(ct, nil))
}

func preview(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	c.timed(ctx, rec, "preview", http.StatusOK, "POST", "/api/selfService/contract?preview=true", c.submitterKey, seatChange(ct, nil))
}

// nextCycle schedules a rate change for the next bill cycle, then withdraws
// it (unmeasured) so the contract is free for the next request.
func nextCycle(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	if a, ok := scheduleRateChange(ctx, c, ct, rec, "nextcycle"); ok {
		_, _ = c.do(ctx, "POST", "/api/amendments/"+quoteID(a)+"/withdraw", c.submitterKey, nil)
	}
}

// park leaves a rate change SCHEDULED for the next bill cycle (one per
// contract), to build up waiting workflows for scale measurements.
func park(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	scheduleRateChange(ctx, c, ct, rec, "park")
}

func scheduleRateChange(ctx context.Context, c *apiClient, ct *contract, rec *recorder, name string) (answer, bool) {
	return c.timed(ctx, rec, name, http.StatusOK, "POST", "/api/selfService/contract", c.submitterKey, map[string]any{
		"action": "RATE_CHANGE", "contractId": ct.id, "relativeEffectiveDate": "NEXT_BILL_CYCLE",
		"payload": map[string]any{"offerings": []any{map[string]any{"offeringId": "off_team", "rateId": "rate_team_annual_usd"}}},
	})
}

// review submits a change held for approval, then approves it: the second
// measurement is approve-to-applied.
func review(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	a, ok := c.timed(ctx, rec, "review-submit", http.StatusAccepted, "POST", "/api/selfService/contract", c.submitterKey,
		seatChange(ct, map[string]any{"requireApproval": true}))
	if ok {
		c.timed(ctx, rec, "approve", http.StatusOK, "POST", "/api/amendments/"+quoteID(a)+"/approve", c.approverKey, map[string]any{"comment": "load test"})
	}
}

// scheduleToggle cancels then restarts the contract's payment schedule.
func scheduleToggle(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	base := "/api/v3/client/" + c.prefix + "/contract/" + ct.id
	if _, ok := c.timed(ctx, rec, "cancelSchedule", http.StatusOK, "POST", base+"/cancelSchedule", c.submitterKey, nil); ok {
		c.timed(ctx, rec, "restartSchedule", http.StatusOK, "POST", base+"/restartSchedule?comment=load", c.submitterKey, nil)
	}
}

func quoteID(a answer) string {
	q, _ := a.body()["quote"].(map[string]any)
	id, _ := q["id"].(string)
	return id
}

// hold leaves a change waiting in REVIEW (one per contract: it holds it), to
// build up the approvers' inbox for scale measurements.
func hold(ctx context.Context, c *apiClient, ct *contract, rec *recorder) {
	c.timed(ctx, rec, "hold", http.StatusAccepted, "POST", "/api/selfService/contract", c.submitterKey,
		seatChange(ct, map[string]any{"requireApproval": true}))
}
