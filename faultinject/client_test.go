//go:build faultinject

package faultinject

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
)

// client is a well-behaved API client: it retries what a client should retry
// (transport errors and 5xx) with the same Idempotency-Key, and it counts
// every answer it got so the tests can report and judge them.
type client struct {
	base string
	http *http.Client

	mu       sync.Mutex
	answers  map[answer]int
	requests int
	// noRetryAfter counts 503 answers without a Retry-After header.
	noRetryAfter int
}

func newClient(base string) *client {
	return &client{
		base:    base,
		http:    &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		answers: map[answer]int{},
	}
}

// answer is what a kind of request got: an HTTP status, 0 for none.
type answer struct {
	kind   string
	status int
}

type reply struct {
	status int
	body   map[string]any
	header http.Header
}

// call sends one request; status 0 means it never got an answer.
func (c *client) call(ctx context.Context, kind, method, path, key string, body any, idempotencyKey string) reply {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	var r reply
	if resp, err := c.http.Do(req); err == nil {
		raw, readErr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if readErr == nil {
			r = reply{status: resp.StatusCode, header: resp.Header}
			_ = json.Unmarshal(raw, &r.body)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.answers[answer{kind, r.status}]++
	if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
		c.noRetryAfter++
	}
	return r
}

// retryable answers are worth sending again unchanged.
func retryable(status int) bool { return status == 0 || status >= 500 }

// send repeats a request until it gets an answer that is not retryable, or
// the context ends.
func (c *client) send(ctx context.Context, kind, method, path, key string, body any, idempotencyKey string) reply {
	backoff := 100 * time.Millisecond
	for {
		r := c.call(ctx, kind, method, path, key, body, idempotencyKey)
		// A change still being made is asked about again with its key,
		// which joins it.
		if (!retryable(r.status) && !(idempotencyKey != "" && stillBeingMade(r))) || ctx.Err() != nil {
			return r
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// statusCount sums the answers with a status over every kind.
func (c *client) statusCount(status int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for a, v := range c.answers {
		if a.status == status {
			n += v
		}
	}
	return n
}

// summary lists every kind and status with its count, for the test log.
func (c *client) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.answers))
	for a, v := range c.answers {
		keys = append(keys, fmt.Sprintf("[%s %d]=%d", a.kind, a.status, v))
	}
	sort.Strings(keys)
	return fmt.Sprintf("%d requests: %s", c.requests, strings.Join(keys, " "))
}

// contract is what the tests need to address a contract on every surface.
type contract struct {
	id, customerID, ref string
}

// createContracts makes n TEAM-M contracts with five seats, paid by a card
// the sandbox provider accepts.
func (c *client) createContracts(t *testing.T, ctx context.Context, n int) []contract {
	t.Helper()
	today := time.Now().UTC()
	out := make([]contract, 0, n)
	for i := range n {
		created := c.send(ctx, "create", "POST", "/api/contract-actions", demo.SubmitterKey, map[string]any{
			"accountNumber": fmt.Sprintf("FI-%d-%d", today.UnixNano(), i),
			"actions": []any{map[string]any{"type": "create-contract-with-plan", "createContractWithPlan": []any{map[string]any{
				"planId": "off_team", "effectiveDate": today.AddDate(0, 0, -20).Format(time.DateOnly),
				"expirationDate": today.AddDate(3, 0, 0).Format(time.DateOnly), "currency": []string{"USD"},
				"quantities": map[string]int{"prod_seat": 5}, "paymentMethod": "pm_ok",
			}}}},
		}, fmt.Sprintf("create-%d", i))
		require.Equal(t, http.StatusOK, created.status, "create contract: %v", created.body)
		id := created.body["contractId"].(string)
		got := c.send(ctx, "read", "GET", "/api/contracts/"+id, demo.SubmitterKey, nil, "")
		require.Equal(t, http.StatusOK, got.status, "read contract: %v", got.body)
		out = append(out, contract{id: id, customerID: fmt.Sprint(got.body["customerId"]), ref: fmt.Sprintf("%.0f", got.body["ref"])})
	}
	return out
}

// seats is a QUANTITY_CHANGE of the contract's seats on an offering.
func seats(ct contract, offering string, n int, extra map[string]any) map[string]any {
	body := map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": ct.id,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": offering, "products": []any{map[string]any{"productId": "prod_seat", "quantity": n}},
		}}},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func crossgradePath(ct contract) string {
	return "/api/customers/" + ct.customerID + "/contracts/" + ct.ref + "/crossgrade"
}

// amendmentField is a field of the amendment a self-service answer shows
// (under "quote") or a crossgrade answer (under "amendment").
func amendmentField(r reply, field string) string {
	for _, at := range []string{"quote", "amendment"} {
		if am, ok := r.body[at].(map[string]any); ok {
			if v, ok := am[field].(string); ok {
				return v
			}
		}
	}
	return ""
}

// amendmentID is the id in a self-service or crossgrade answer.
func amendmentID(r reply) string { return amendmentField(r, "id") }

// stillBeingMade says whether an answer is a change accepted and still
// being made: 202 PENDING, the API's wait for its workflow having run out.
// The client is to follow it, not to send it again.
func stillBeingMade(r reply) bool {
	return r.status == http.StatusAccepted && amendmentField(r, "status") == "PENDING"
}

// decide approves (or withdraws) an amendment, retrying like submissions do,
// and returns the status the amendment ends up in once the decision is acted on.
func (c *client) decide(ctx context.Context, kind, id, key string) (string, error) {
	r := c.send(ctx, kind, "POST", "/api/amendments/"+id+"/"+kind, key, map[string]any{"comment": "fault injection"}, "")
	if r.status != http.StatusOK {
		return "", fmt.Errorf("%s %s: HTTP %d %v", kind, id, r.status, r.body)
	}
	status, _ := r.body["status"].(string) // the answer is the amendment
	return status, nil
}
