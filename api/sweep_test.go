package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/testkit"
)

// The input sweep sends, through the real router to a real database and
// Temporal, every route every hostile value in every place it reads input:
// each path segment, query parameter, data header and body field (nested
// ones included, found by walking a valid body). Nobody listed which
// combinations matter, so it tries them all and asserts only what must
// always hold: no 5xx, and an answer within sweepTimeout (no hang). Set
// INPUT_SWEEP=full for every value everywhere; `go test` runs a short form.

const sweepTimeout = 30 * time.Second

// hostile is a JSON literal (for bodies) and its text form (for paths,
// queries and headers; empty where it cannot be sent there).
type hostile struct{ name, json, text string }

var hostiles = []hostile{
	{"NUL", `"a\u0000b"`, "a\x00b"},
	{"invalid UTF-8", "\"\xff\xfe\"", "\xff\xfe"},
	{"10,000 characters", `"` + strings.Repeat("x", 10_000) + `"`, strings.Repeat("x", 10_000)},
	{"2^63", `9223372036854775808`, "9223372036854775808"},
	{"-1", `-1`, "-1"},
	{"year 1", `"0001-01-01"`, "0001-01-01"},
	{"year 9999", `"9999-12-31"`, "9999-12-31"},
	{"wrong type", `{"a": [true]}`, "true"},
	{"null", `null`, ""},
}

// shortHostiles are the values the short form sends: one of each class.
var shortHostiles = []string{"NUL", "invalid UTF-8", "10,000 characters", "2^63", "wrong type"}

// sweepQuery are the query parameters any route may read.
var sweepQuery = []string{"pageSize", "pageToken", "pageNumber", "excludeTotalCount", "accountNumber", "status", "type", "after", "preview", "comment"}

var sweepHeaders = []string{"Idempotency-Key", "trace-id"}

type sweep struct {
	t        *testing.T
	env      *testkit.Env
	key      string
	values   []hostile
	fields   map[string]bool
	requests int
	failures []string
	slowest  time.Duration
	client   *http.Client
}

func TestInputSweep(t *testing.T) {
	env := newAmendmentEnv(t)
	key := env.NewTenantKey(env.A, "submitter", "approver", "operator")
	sw := &sweep{t: t, env: env, key: key, fields: map[string]bool{}, client: &http.Client{Timeout: sweepTimeout}}
	full := os.Getenv("INPUT_SWEEP") == "full"
	for _, h := range hostiles {
		if full || contains(shortHostiles, h.name) {
			sw.values = append(sw.values, h)
		}
	}

	ct := fiveSeats(env, nil)
	termination := requireWrite(t, env.Do("POST", terminationsPath, env.A.OperatorKey,
		map[string]any{"penaltyServiceId": 1, "name": "Fee"}), "create").Results.Items[0].Identity
	body := cancel(ct["number"])
	body["requireApproval"] = true
	review := held(t, env, body)
	params := map[string]string{
		"id": review, "contractId": ct["id"].(string), "customerId": ct["customerId"].(string),
		"contractRef": formatRef(ct["ref"]), "deliveryId": review, "clientPrefix": env.A.Prefix,
	}
	bodies := sweepBodies(ct)

	routes := allRoutes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Method+routes[i].Path < routes[j].Method+routes[j].Path })
	for _, r := range routes {
		if publicPaths[r.Path] {
			continue
		}
		route := r.Method + " " + r.Path
		valid := bodies[route]
		path := r.Path
		if route == "GET /api/v5/Contract/Termination/:id" || strings.HasPrefix(route, "PUT /api/v5/Contract/Termination/:id") ||
			strings.HasPrefix(route, "PATCH /api/v5/Contract/Termination/:id") || strings.HasPrefix(route, "GET /api/v5/Contract/Termination/:id/") {
			path = strings.Replace(path, ":id", fmt.Sprint(termination), 1)
		}
		// Each path segment in turn.
		for _, p := range pathParam.FindAllString(path, -1) {
			for _, h := range sw.values {
				if h.text == "" {
					continue
				}
				sw.send(route, "path "+p, r.Method, fillPath(path, params, p, url.PathEscape(h.text)), valid, nil)
			}
		}
		target := fillPath(path, params, "", "")
		if full || r.Method == http.MethodGet {
			for _, q := range sweepQuery {
				for _, h := range sw.values {
					sw.send(route, "query "+q, r.Method, target+"?"+q+"="+url.QueryEscape(h.text), valid, nil)
				}
			}
		}
		for _, name := range sweepHeaders {
			for _, h := range sw.values {
				if h.text == "" || strings.ContainsRune(h.text, 0) {
					continue // a client cannot send NUL in a header
				}
				sw.send(route, "header "+name, r.Method, target, valid, map[string]string{name: h.text})
			}
		}
		if valid == nil {
			continue
		}
		var doc any
		require.NoError(t, json.Unmarshal([]byte(valid.(string)), &doc), route)
		for _, field := range jsonPaths(doc, "") {
			for _, h := range sw.values {
				sw.send(route, "body "+field, r.Method, target, substitute(doc, field, h.json), nil)
			}
		}
	}
	summary := fmt.Sprintf("input sweep: %d fields, %d requests, 5xx: %d, slowest answer %v", len(sw.fields), sw.requests, len(sw.failures), sw.slowest.Round(time.Millisecond))
	t.Log(summary)
	assert.Empty(t, sw.failures, summary)
}

// send makes one request and records a 5xx or a hang.
func (sw *sweep) send(route, field, method, target string, body any, headers map[string]string) {
	sw.fields[route+" "+field] = true
	sw.requests++
	var reader io.Reader
	if body != nil {
		reader = strings.NewReader(body.(string))
	}
	req, err := http.NewRequest(method, sw.env.HTTP.URL+target, reader)
	if err != nil {
		return // not a request a client can send (the URL does not parse)
	}
	req.Header.Set("Authorization", "Bearer "+sw.key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := sw.client.Do(req)
	took := time.Since(start)
	sw.slowest = max(sw.slowest, took)
	if err != nil {
		sw.failures = append(sw.failures, fmt.Sprintf("%s %s: %v", route, field, err))
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		sw.failures = append(sw.failures, fmt.Sprintf("%s %s (%s): %d %.200s", route, field, target[:min(len(target), 120)], resp.StatusCode, raw))
	}
}

// fillPath puts each route parameter's valid value in, except param, which gets value.
func fillPath(path string, params map[string]string, param, value string) string {
	return pathParam.ReplaceAllStringFunc(path, func(p string) string {
		if p == param {
			return value
		}
		return params[p[1:]]
	})
}

// jsonPaths lists every value's path in doc: object fields by name, list
// items by index.
func jsonPaths(doc any, at string) []string {
	var out []string
	switch v := doc.(type) {
	case map[string]any:
		for _, k := range sortedKeysOf(v) {
			p := at + "/" + k
			out = append(out, p)
			out = append(out, jsonPaths(v[k], p)...)
		}
	case []any:
		for i, item := range v {
			p := fmt.Sprintf("%s/%d", at, i)
			out = append(out, p)
			out = append(out, jsonPaths(item, p)...)
		}
	}
	return out
}

func sortedKeysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const placeholder = "\u2063sweep\u2063"

// substitute is doc encoded with the value at path replaced by the raw
// JSON literal raw.
func substitute(doc any, path, raw string) string {
	copied := deepCopy(doc)
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var set func(node any, i int) any
	set = func(node any, i int) any {
		if i == len(parts) {
			return placeholder
		}
		switch v := node.(type) {
		case map[string]any:
			v[parts[i]] = set(v[parts[i]], i+1)
			return v
		case []any:
			var n int
			fmt.Sscan(parts[i], &n)
			v[n] = set(v[n], i+1)
			return v
		}
		return node
	}
	encoded, _ := json.Marshal(set(copied, 0))
	quoted, _ := json.Marshal(placeholder)
	return strings.Replace(string(encoded), string(quoted), raw, 1)
}

func deepCopy(doc any) any {
	raw, _ := json.Marshal(doc)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sweepBodies are a valid body for each route that reads one.
func sweepBodies(ct map[string]any) map[string]any {
	catalog, _ := json.Marshal(demo.Catalog())
	number := ct["number"].(string)
	return map[string]any{
		"POST /api/contract-actions":                                        `{"accountNumber": "ACC-9", "actions": [{"type": "create-contract-with-plan", "createContractWithPlan": [{"planId": "off_team", "effectiveDate": "2026-03-01", "expirationDate": "2027-03-01", "currency": ["USD"], "rateId": "rate_team_monthly_usd", "quantities": {"prod_seat": 2}, "billingCycleDay": 1, "paymentMethod": "pm_ok", "protected": false}]}]}`,
		"POST /api/selfService/contract":                                    `{"action": "QUANTITY_CHANGE", "contractId": "` + number + `", "effectiveDate": "2026-04-01", "requireApproval": true, "payload": {"offerings": [{"offeringId": "off_team", "products": [{"productId": "prod_seat", "quantity": 7}]}]}}`,
		"POST /api/customers/:customerId/contracts/:contractRef/crossgrade": `{"salesItemCode": "BUSINESS-M", "referrer": "sweep", "discountCode": {"code": "WELCOME10"}, "downgradeImmediately": false, "viewingCardNumber": ""}`,
		"POST /api/v5/Contract/Termination":                                 `{"penaltyServiceId": 1, "name": "Sweep"}`,
		"POST /api/v5/Contract/Termination/":                                `{"penaltyServiceId": 1, "name": "Sweep"}`,
		"PUT /api/v5/Contract/Termination/:id":                              `{"identity": 1, "penaltyServiceId": 1, "name": "Renamed"}`,
		"PUT /api/v5/Contract/Termination/:id/":                             `{"identity": 1, "penaltyServiceId": 1, "name": "Renamed"}`,
		"PATCH /api/v5/Contract/Termination/:id":                            sweepPatch,
		"PATCH /api/v5/Contract/Termination/:id/":                           sweepPatch,
		"PUT /api/catalog":                                                  string(catalog),
		"PUT /api/approval-rules":                                           `{"rules": [{"id": "r", "name": "R", "when": "false", "expiresAfter": "7d"}]}`,
		"POST /api/webhooks":                                                `{"url": "http://127.0.0.1:9/hooks", "events": ["amendment.applied"], "description": "sweep"}`,
		"POST /api/billing/run":                                             `{"asOf": "2026-03-15"}`,
		"POST /api/amendments/:id/approve":                                  `{"comment": "ok"}`,
		"POST /api/amendments/:id/reject":                                   `{"comment": "no"}`,
	}
}

const sweepPatch = `{"details": {}, "contractTerminations": {"items": [{"patchType": "update", "patchClientId": 1, "name": "Patched"}]}, "contractTerminationPeriodCharges": {"items": [{"patchType": "create", "patchClientId": 2, "startMonth": 0, "endMonth": 12, "amount": 100, "currency": "USD"}]}}`
