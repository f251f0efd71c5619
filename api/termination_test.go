package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
	"github.com/contractd/contractd/internal/testkit"
)

const terminationsPath = "/api/v5/Contract/Termination"

func terminationPath(id int64, suffix string) string {
	return fmt.Sprintf("%s/%d%s", terminationsPath, id, suffix)
}

type v5WriteBody struct {
	TrackingID string `json:"trackingId"`
	Type       string `json:"type"`
	Results    struct {
		TotalCount int           `json:"totalCount"`
		Items      []v5WriteItem `json:"items"`
	} `json:"results"`
}

type v5WriteItem struct {
	Identity      int64          `json:"identity"`
	LHSID         string         `json:"lhsId"`
	RHSID         int64          `json:"rhsId"`
	Action        string         `json:"action"`
	DTOTypeKey    string         `json:"dtoTypeKey"`
	PatchClientID int64          `json:"patchClientId"`
	Instance      map[string]any `json:"instance"`
}

type v5ErrorBody struct {
	TrackingID string   `json:"trackingId"`
	Message    string   `json:"message"`
	Problems   []string `json:"problems"`
}

// requireTracked checks the answer carries one uuid tracking id, in the body
// and the X-Tracking-Id header.
func requireTracked(t *testing.T, resp testkit.Response) {
	t.Helper()
	id := resp.JSON(t)["trackingId"]
	require.NotEmpty(t, id, "body: %s", resp.Body)
	_, err := uuid.Parse(id.(string))
	require.NoError(t, err)
	require.Equal(t, id, resp.Header.Get("X-Tracking-Id"))
}

func requireWrite(t *testing.T, resp testkit.Response, kind string) v5WriteBody {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	requireTracked(t, resp)
	var body v5WriteBody
	resp.Decode(t, &body)
	require.Equal(t, kind, body.Type)
	require.Len(t, body.Results.Items, body.Results.TotalCount)
	return body
}

func requireV5Error(t *testing.T, resp testkit.Response, status int) v5ErrorBody {
	t.Helper()
	require.Equal(t, status, resp.Status, "%s", resp.Body)
	requireTracked(t, resp)
	var body v5ErrorBody
	resp.Decode(t, &body)
	require.NotEmpty(t, body.Message)
	return body
}

// errorText is everything an error body tells the client.
func (b v5ErrorBody) errorText() string {
	return b.Message + "\n" + strings.Join(b.Problems, "\n")
}

func createTermination(t *testing.T, env *testkit.Env, name string) int64 {
	t.Helper()
	return createTerminationOf(t, env, env.A, name)
}

// createTerminationOf creates a termination of tn's and returns its id.
func createTerminationOf(t *testing.T, env *testkit.Env, tn testkit.Tenant, name string) int64 {
	t.Helper()
	body := requireWrite(t, env.Do("POST", terminationsPath+"/", tn.OperatorKey,
		map[string]any{"penaltyServiceId": 1, "name": name}), "create")
	return body.Results.Items[0].Identity
}

func chargeItem(clientID, start, end int, amount int64, currency string) map[string]any {
	return map[string]any{"patchType": "create", "patchClientId": clientID,
		"startMonth": start, "endMonth": end, "amount": amount, "currency": currency}
}

func patchBody(terminations []map[string]any, charges ...map[string]any) map[string]any {
	body := map[string]any{"details": map[string]any{}}
	if terminations != nil {
		body["contractTerminations"] = map[string]any{"items": terminations}
	}
	if charges != nil {
		body["contractTerminationPeriodCharges"] = map[string]any{"items": charges}
	}
	return body
}

func patchTermination(env *testkit.Env, id int64, terminations []map[string]any, charges ...map[string]any) testkit.Response {
	return patchTerminationOf(env, env.A, id, terminations, charges...)
}

// patchTerminationOf patches a termination of tn's.
func patchTerminationOf(env *testkit.Env, tn testkit.Tenant, id int64, terminations []map[string]any, charges ...map[string]any) testkit.Response {
	return env.Do("PATCH", terminationPath(id, ""), tn.OperatorKey, patchBody(terminations, charges...))
}

// detail is a termination's Detail instance, as tenant A reads it.
func detail(t *testing.T, env *testkit.Env, id int64) map[string]any {
	t.Helper()
	resp := env.Do("GET", terminationPath(id, "/Detail"), env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["instance"].(map[string]any)
}

func chargesIn(instance map[string]any) []any {
	return instance["details"].(map[string]any)["contractTerminationPeriodCharges"].(map[string]any)["items"].([]any)
}

func TestTerminationCreateReadUpdate(t *testing.T) {
	env := testkit.New(t)
	created := requireWrite(t, env.Do("POST", terminationsPath+"/", env.A.OperatorKey,
		map[string]any{"penaltyServiceId": 1, "name": "Early Termination Fee"}), "create")
	require.Equal(t, 1, created.Results.TotalCount)
	id := created.Results.Items[0].Identity
	require.Positive(t, id)
	want := map[string]any{"identity": float64(id), "penaltyServiceId": float64(1), "penaltyServiceName": "Early termination", "name": "Early Termination Fee"}

	// Without the trailing slash too.
	second := requireWrite(t, env.Do("POST", terminationsPath, env.A.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Second"}), "create")
	secondID := second.Results.Items[0].Identity

	for _, path := range []string{terminationsPath, terminationsPath + "/"} {
		list := env.Do("GET", path, env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, list.Status, path)
		requireTracked(t, list)
		body := list.JSON(t)
		assert.EqualValues(t, 2, body["totalCount"])
		items := body["items"].([]any)
		require.Len(t, items, 2)
		assert.Equal(t, want, items[0])
		assert.EqualValues(t, secondID, items[1].(map[string]any)["identity"])
	}

	for _, path := range []string{terminationPath(id, ""), terminationPath(id, "/")} {
		got := env.Do("GET", path, env.A.ApproverKey, nil)
		require.Equal(t, http.StatusOK, got.Status, path)
		requireTracked(t, got)
		assert.Equal(t, want, got.JSON(t)["instance"], "the plain view has no details")
	}

	updated := requireWrite(t, env.Do("PUT", terminationPath(id, ""), env.A.OperatorKey,
		map[string]any{"identity": id, "penaltyServiceId": 1, "name": "Renamed"}), "update")
	require.Equal(t, 1, updated.Results.TotalCount)
	assert.Equal(t, id, updated.Results.Items[0].Identity)
	assert.Equal(t, "Renamed", env.Do("GET", terminationPath(id, ""), env.A.SubmitterKey, nil).JSON(t)["instance"].(map[string]any)["name"])

	// identity is optional in a PUT but must match the path.
	requireWrite(t, env.Do("PUT", terminationPath(id, "/"), env.A.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Again"}), "update")
	mismatch := requireV5Error(t, env.Do("PUT", terminationPath(id, ""), env.A.OperatorKey,
		map[string]any{"identity": secondID, "penaltyServiceId": 1, "name": "X"}), http.StatusBadRequest)
	assert.Contains(t, mismatch.Message, "does not match")
}

func TestTerminationWriteValidation(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Fee")
	cases := []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"unknown penalty service", "POST", terminationsPath, map[string]any{"penaltyServiceId": 26, "name": "Fee"},
			[]string{"penaltyServiceId 26 is not one of the catalog's penaltyServices"}},
		{"missing fields", "POST", terminationsPath, map[string]any{},
			[]string{"penaltyServiceId is required", "name is required"}},
		{"blank name", "POST", terminationsPath, map[string]any{"penaltyServiceId": 1, "name": " "}, []string{"name must not be blank"}},
		{"malformed json", "POST", terminationsPath, `{"name": `, []string{"malformed JSON"}},
		{"wrong type", "POST", terminationsPath, `{"penaltyServiceId": "one", "name": "Fee"}`, []string{"penaltyServiceId"}},
		{"put needs every field", "PUT", terminationPath(id, ""), map[string]any{"name": "Fee"}, []string{"penaltyServiceId is required"}},
		{"put with unknown penalty service", "PUT", terminationPath(id, ""), map[string]any{"penaltyServiceId": 2, "name": "Fee"},
			[]string{"penaltyServiceId 2"}},
		{"non-numeric id", "GET", terminationsPath + "/abc", nil, []string{`"abc" is not a positive whole number`}},
		{"zero id", "DELETE", terminationsPath + "/0", nil, []string{`"0" is not a positive whole number`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := requireV5Error(t, env.Do(tc.method, tc.path, env.A.OperatorKey, tc.body), http.StatusBadRequest)
			for _, w := range tc.want {
				assert.Contains(t, body.errorText(), w)
			}
		})
	}

	const missing = 987654321
	for _, req := range []struct{ method, suffix string }{
		{"GET", ""}, {"GET", "/Detail"}, {"DELETE", ""},
	} {
		body := requireV5Error(t, env.Do(req.method, terminationPath(missing, req.suffix), env.A.OperatorKey, nil), http.StatusNotFound)
		assert.Equal(t, "contract termination 987654321 does not exist", body.Message)
	}
	put := requireV5Error(t, env.Do("PUT", terminationPath(missing, ""), env.A.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Fee"}), http.StatusNotFound)
	assert.Equal(t, "contract termination 987654321 does not exist", put.Message)
	patch := requireV5Error(t, patchTermination(env, missing, nil, chargeItem(1, 0, 1, 100, "USD")), http.StatusNotFound)
	assert.Equal(t, "contract termination 987654321 does not exist", patch.Message)

	assert.Equal(t, 1, env.CountRows("contract_terminations"))
	assert.Zero(t, env.CountRows("contract_termination_period_charges"))
}

func TestTerminationPatchAndDetail(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Fee")
	other := createTermination(t, env, "Other")

	resp := patchTermination(env, id,
		[]map[string]any{{"patchType": "update", "patchClientId": 1, "name": "Early Termination Fee"}},
		chargeItem(1, 13, 24, 20000, "USD"), chargeItem(2, 0, 5, 5000, "USD"), chargeItem(3, 6, 12, 10000, "USD"))
	body := requireWrite(t, resp, "patch")
	require.Equal(t, 4, body.Results.TotalCount)
	first := body.Results.Items[0]
	assert.Equal(t, v5WriteItem{Identity: id, Action: "updated", DTOTypeKey: "contractTermination", PatchClientID: 1,
		Instance: map[string]any{"identity": float64(id), "penaltyServiceId": float64(1), "penaltyServiceName": "Early termination", "name": "Early Termination Fee"}}, first)
	chargeIDs := map[int64]int64{} // patchClientId -> identity
	for _, it := range body.Results.Items[1:] {
		assert.Equal(t, "created", it.Action)
		assert.Equal(t, "contractTerminationPeriodCharge", it.DTOTypeKey)
		assert.EqualValues(t, it.Identity, it.Instance["identity"])
		chargeIDs[it.PatchClientID] = it.Identity
	}
	assert.Equal(t, map[string]any{"identity": float64(chargeIDs[2]), "startMonth": float64(0), "endMonth": float64(5), "amount": float64(5000), "currency": "USD"},
		body.Results.Items[2].Instance)

	// Detail lists the charges in month order, in the seed's details placement.
	got := env.Do("GET", terminationPath(id, "/Detail"), env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	requireTracked(t, got)
	inst := got.JSON(t)["instance"].(map[string]any)
	assert.Equal(t, "Early Termination Fee", inst["name"])
	list := inst["details"].(map[string]any)["contractTerminationPeriodCharges"].(map[string]any)
	assert.EqualValues(t, 3, list["totalCount"])
	var starts []float64
	for _, c := range list["items"].([]any) {
		starts = append(starts, c.(map[string]any)["startMonth"].(float64))
	}
	assert.Equal(t, []float64{0, 6, 13}, starts)

	paged := env.Do("GET", terminationsPath+"/Paged/Detail/", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, paged.Status)
	requireTracked(t, paged)
	items := paged.JSON(t)["pagedResults"].(map[string]any)["items"].([]any)
	require.Len(t, items, 2)
	assert.Len(t, chargesIn(items[0].(map[string]any)), 3)
	assert.Empty(t, chargesIn(items[1].(map[string]any)), "a termination without charges shows an empty list")
	assert.EqualValues(t, 0, items[1].(map[string]any)["details"].(map[string]any)["contractTerminationPeriodCharges"].(map[string]any)["totalCount"])

	// Bands may move past each other within one patch: only the final set must not overlap.
	moved := requireWrite(t, patchTermination(env, id, nil,
		map[string]any{"patchType": "update", "patchClientId": 1, "identity": chargeIDs[3], "startMonth": 3},
		map[string]any{"patchType": "update", "patchClientId": 2, "identity": chargeIDs[2], "endMonth": 2, "amount": 4000},
		map[string]any{"patchType": "delete", "patchClientId": 3, "identity": chargeIDs[1]},
	), "patch")
	assert.Equal(t, []v5WriteItem{
		{Identity: chargeIDs[3], Action: "updated", DTOTypeKey: "contractTerminationPeriodCharge", PatchClientID: 1,
			Instance: map[string]any{"identity": float64(chargeIDs[3]), "startMonth": float64(3), "endMonth": float64(12), "amount": float64(10000), "currency": "USD"}},
		{Identity: chargeIDs[2], Action: "updated", DTOTypeKey: "contractTerminationPeriodCharge", PatchClientID: 2,
			Instance: map[string]any{"identity": float64(chargeIDs[2]), "startMonth": float64(0), "endMonth": float64(2), "amount": float64(4000), "currency": "USD"}},
		{Identity: chargeIDs[1], Action: "deleted", DTOTypeKey: "contractTerminationPeriodCharge", PatchClientID: 3},
	}, moved.Results.Items)

	// A patch may also create and update other terminations, as the seed's sample does.
	dataflow := requireWrite(t, patchTermination(env, id, []map[string]any{
		{"patchType": "create", "patchClientId": 1, "penaltyServiceId": 1, "name": "Created by patch"},
		{"patchType": "update", "patchClientId": 2, "identity": other, "name": "Other, renamed"},
	}), "patch")
	require.Len(t, dataflow.Results.Items, 2)
	assert.Equal(t, "created", dataflow.Results.Items[0].Action)
	assert.Equal(t, "Created by patch", dataflow.Results.Items[0].Instance["name"])
	assert.Equal(t, "Other, renamed", detail(t, env, other)["name"])
	assert.Equal(t, 3, env.CountRows("contract_terminations"))

	// What the cancellation pricing reads.
	charges, err := env.Store.TerminationCharges(context.Background(), env.A.ID, id)
	require.NoError(t, err)
	require.Len(t, charges, 2)
	assert.Equal(t, domain.TerminationCharge{ID: chargeIDs[2], StartMonth: 0, EndMonth: 2, Amount: 4000, Currency: "USD"}, charges[0])
	months := domain.MonthsRemaining(domain.NewDate(2026, time.March, 15), domain.NewDate(2027, time.January, 1))
	fee, ok := domain.TerminationFee(charges, months)
	require.True(t, ok)
	assert.Equal(t, chargeIDs[3], fee.ID)
	none, err := env.Store.TerminationCharges(context.Background(), env.A.ID, other)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = env.Store.TerminationCharges(context.Background(), env.B.ID, id)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestTerminationPatchIsAllOrNothing(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Fee")
	seeded := requireWrite(t, patchTermination(env, id, nil, chargeItem(1, 0, 11, 1000, "USD")), "patch")
	existing := seeded.Results.Items[0].Identity
	before := detail(t, env, id)

	rename := map[string]any{"patchType": "update", "patchClientId": 1, "name": "Renamed"}
	good := chargeItem(1, 12, 23, 2000, "USD")
	cases := []struct {
		name         string
		terminations []map[string]any
		charges      []map[string]any
		status       int
		want         []string
	}{
		{"overlapping bands", []map[string]any{rename}, []map[string]any{good, chargeItem(2, 20, 30, 3000, "USD")}, http.StatusBadRequest,
			[]string{"(months 20-30) overlaps period charge"}},
		{"overlapping an existing band", nil, []map[string]any{good, chargeItem(2, 11, 11, 3000, "USD")}, http.StatusBadRequest,
			[]string{fmt.Sprintf("overlaps period charge %d (months 0-11)", existing)}},
		{"start after end", []map[string]any{rename}, []map[string]any{good, chargeItem(2, 30, 24, 3000, "USD")}, http.StatusBadRequest,
			[]string{"contractTerminationPeriodCharges.items[1]: endMonth 24 is before startMonth 30"}},
		{"start after end by update", nil, []map[string]any{good, {"patchType": "update", "patchClientId": 2, "identity": existing, "startMonth": 12}},
			http.StatusBadRequest, []string{"contractTerminationPeriodCharges.items[1]: endMonth 11 is before startMonth 12"}},
		{"negative amount", []map[string]any{rename}, []map[string]any{good, chargeItem(2, 30, 40, -1, "USD")}, http.StatusBadRequest,
			[]string{"contractTerminationPeriodCharges.items[1]: amount -1 must not be negative"}},
		{"bad currency", []map[string]any{rename}, []map[string]any{good, chargeItem(2, 30, 40, 1, "dollars")}, http.StatusBadRequest,
			[]string{`contractTerminationPeriodCharges.items[1]: currency "dollars" is not a three-letter ISO code`}},
		{"negative start", nil, []map[string]any{good, chargeItem(2, -1, 0, 1, "USD")}, http.StatusBadRequest,
			[]string{"startMonth -1 must not be negative"}},
		{"missing fields", nil, []map[string]any{good, {"patchType": "create", "patchClientId": 2, "startMonth": 30}}, http.StatusBadRequest,
			[]string{"contractTerminationPeriodCharges.items[1]: endMonth is required", "contractTerminationPeriodCharges.items[1]: currency is required"}},
		{"unknown charge", []map[string]any{rename}, []map[string]any{good, {"patchType": "update", "patchClientId": 2, "identity": 999999, "amount": 5}},
			http.StatusNotFound, []string{fmt.Sprintf("contractTerminationPeriodCharges.items[1]: period charge 999999 of contract termination %d does not exist", id)}},
		{"unknown penalty service", []map[string]any{rename, {"patchType": "create", "patchClientId": 2, "penaltyServiceId": 9, "name": "X"}},
			[]map[string]any{good}, http.StatusBadRequest, []string{"contractTerminations.items[1]: penaltyServiceId 9 is not one of the catalog's penaltyServices"}},
		{"unknown termination", []map[string]any{rename, {"patchType": "delete", "patchClientId": 2, "identity": 999999}}, nil,
			http.StatusNotFound, []string{"contractTerminations.items[1]: contract termination 999999 does not exist"}},
		{"charges of a termination deleted in the same patch", []map[string]any{{"patchType": "delete", "patchClientId": 1}},
			[]map[string]any{good}, http.StatusNotFound, []string{fmt.Sprintf("contractTerminationPeriodCharges.items[0]: contract termination %d does not exist", id)}},
		{"malformed items, all reported", []map[string]any{{"patchType": "upsert", "patchClientId": 1}, {"patchType": "create", "patchClientId": 1, "identity": 3}},
			[]map[string]any{{"patchType": "update"}, {"patchType": "delete", "patchClientId": 2}}, http.StatusBadRequest,
			[]string{
				`contractTerminations.items[0]: patchType "upsert" must be create, update or delete`,
				"contractTerminations.items[1]: identity is assigned by the service",
				"contractTerminations.items[1]: patchClientId 1 is used by an earlier item",
				"contractTerminationPeriodCharges.items[0]: identity is required to update",
				"contractTerminationPeriodCharges.items[1]: identity is required to delete",
			}},
		{"nothing to do", nil, nil, http.StatusBadRequest, []string{"the patch lists no items"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := requireV5Error(t, patchTermination(env, id, tc.terminations, tc.charges...), tc.status)
			for _, w := range tc.want {
				assert.Contains(t, body.errorText(), w)
			}
			assert.Equal(t, before, detail(t, env, id), "a refused patch changes nothing")
			assert.Equal(t, 1, env.CountRows("contract_terminations"))
			assert.Equal(t, 1, env.CountRows("contract_termination_period_charges"))
		})
	}

	unknownField := requireV5Error(t, env.Do("PATCH", terminationPath(id, ""), env.A.OperatorKey,
		`{"details": {"colour": "red"}, "contractTerminations": {"items": []}}`), http.StatusBadRequest)
	assert.Contains(t, unknownField.Message, "colour")
}

func TestTerminationPaging(t *testing.T) {
	env := testkit.New(t)
	var ids []float64
	for i := range 5 {
		ids = append(ids, float64(createTermination(t, env, fmt.Sprintf("Fee %d", i))))
	}
	page := func(query string) (map[string]any, map[string]any) {
		t.Helper()
		resp := env.Do("GET", terminationsPath+"/Paged"+query, env.A.SubmitterKey, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", query, resp.Body)
		requireTracked(t, resp)
		body := resp.JSON(t)
		return body["pagination"].(map[string]any), body["pagedResults"].(map[string]any)
	}
	identities := func(results map[string]any) []float64 {
		out := []float64{}
		for _, it := range results["items"].([]any) {
			out = append(out, it.(map[string]any)["identity"].(float64))
		}
		return out
	}

	for _, query := range []string{"", "/", "?pageNumber=&pageSize=&excludeTotalCount="} {
		pg, results := page(query)
		assert.Equal(t, map[string]any{"pageNumber": float64(1), "pageSize": float64(20), "excludeTotalCount": false}, pg, query)
		assert.EqualValues(t, 5, results["totalCount"])
		assert.Equal(t, ids, identities(results))
	}
	for n, want := range [][]float64{ids[0:2], ids[2:4], ids[4:5], {}} {
		pg, results := page(fmt.Sprintf("?pageNumber=%d&pageSize=2", n+1))
		assert.EqualValues(t, n+1, pg["pageNumber"])
		assert.EqualValues(t, 2, pg["pageSize"])
		assert.EqualValues(t, 5, results["totalCount"], "the total counts every page")
		assert.Equal(t, want, identities(results))
	}

	pg, results := page("?pageNumber=2&pageSize=3&excludeTotalCount=true")
	assert.Equal(t, true, pg["excludeTotalCount"])
	assert.NotContains(t, results, "totalCount")
	assert.Equal(t, ids[3:5], identities(results))

	_, results = page("?pageNumber=9223372036854775807&pageSize=500")
	assert.Empty(t, identities(results), "a page far past the end is empty, not an overflow")

	for _, query := range []string{
		"pageNumber=0", "pageNumber=-1", "pageNumber=abc", "pageNumber=1.5", "pageNumber=99999999999999999999",
		"pageSize=0", "pageSize=501", "pageSize=x", "excludeTotalCount=maybe",
	} {
		for _, endpoint := range []string{"/Paged?", "/Paged/Detail?"} {
			body := requireV5Error(t, env.Do("GET", terminationsPath+endpoint+query, env.A.SubmitterKey, nil), http.StatusBadRequest)
			param, _, _ := strings.Cut(query, "=")
			assert.Contains(t, body.errorText(), param, query)
		}
	}
	both := requireV5Error(t, env.Do("GET", terminationsPath+"/Paged?pageNumber=0&pageSize=0", env.A.SubmitterKey, nil), http.StatusBadRequest)
	assert.Len(t, both.Problems, 2, "every bad parameter is reported")
}

func TestTerminationDelete(t *testing.T) {
	env := testkit.NewOnBusinessDate(t)
	used := createTermination(t, env, "Used")
	first := env.CreateContract(map[string]any{"contractTerminationId": used})
	second := env.CreateContract(map[string]any{"contractTerminationId": used})

	conflict := requireV5Error(t, env.Do("DELETE", terminationPath(used, ""), env.A.OperatorKey, nil), http.StatusConflict)
	assert.Equal(t, fmt.Sprintf("contract termination %d is used by 2 contract(s): %s, %s", used, first["number"], second["number"]), conflict.Message)
	viaPatch := requireV5Error(t, patchTermination(env, used, []map[string]any{{"patchType": "delete", "patchClientId": 1}}), http.StatusConflict)
	assert.Contains(t, viaPatch.Message, "contractTerminations.items[0]: contract termination")
	assert.Contains(t, viaPatch.Message, first["number"])
	assert.Equal(t, http.StatusOK, env.Do("GET", terminationPath(used, ""), env.A.SubmitterKey, nil).Status)

	// A termination that is an offering's default is detached from it.
	id := createTermination(t, env, "Default")
	charges := requireWrite(t, patchTermination(env, id, nil, chargeItem(1, 0, 11, 1000, "USD"), chargeItem(2, 12, 23, 500, "USD")), "patch")
	cat := demo.Catalog()
	cat.Offerings[0].ContractTerminationID = &id
	require.Equal(t, http.StatusOK, env.Do("PUT", "/api/catalog", env.A.OperatorKey, cat).Status)

	deleted := requireWrite(t, env.Do("DELETE", terminationPath(id, "/"), env.A.OperatorKey, nil), "delete")
	assert.Equal(t, []v5WriteItem{
		{Identity: id, Action: "deleted", DTOTypeKey: "contractTermination"},
		{Identity: charges.Results.Items[0].Identity, Action: "deleted", DTOTypeKey: "contractTerminationPeriodCharge"},
		{Identity: charges.Results.Items[1].Identity, Action: "deleted", DTOTypeKey: "contractTerminationPeriodCharge"},
		{LHSID: cat.Offerings[0].ID, RHSID: id, Action: "detached", DTOTypeKey: "offeringContractTermination"},
	}, deleted.Results.Items)

	requireV5Error(t, env.Do("GET", terminationPath(id, ""), env.A.SubmitterKey, nil), http.StatusNotFound)
	requireV5Error(t, env.Do("DELETE", terminationPath(id, ""), env.A.OperatorKey, nil), http.StatusNotFound)
	assert.Zero(t, env.CountRows("contract_termination_period_charges"))
	offering := env.Do("GET", "/api/catalog", env.A.SubmitterKey, nil).JSON(t)["offerings"].([]any)[0].(map[string]any)
	assert.NotContains(t, offering, "contractTerminationId")

	// Without charges or offerings, the answer lists the termination alone.
	lone := createTermination(t, env, "Lone")
	alone := requireWrite(t, env.Do("DELETE", terminationPath(lone, ""), env.A.OperatorKey, nil), "delete")
	assert.Equal(t, []v5WriteItem{{Identity: lone, Action: "deleted", DTOTypeKey: "contractTermination"}}, alone.Results.Items)
}

func TestTerminationTenantIsolation(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Tenant A only")
	requireWrite(t, patchTermination(env, id, nil, chargeItem(1, 0, 11, 1000, "USD")), "patch")
	before := detail(t, env, id)

	missing := requireV5Error(t, env.Do("GET", terminationPath(99999999, ""), env.B.OperatorKey, nil), http.StatusNotFound)
	requests := []struct {
		method, suffix string
		body           any
	}{
		{"GET", "", nil},
		{"GET", "/Detail", nil},
		{"PUT", "", map[string]any{"penaltyServiceId": 1, "name": "Stolen"}},
		{"PATCH", "", patchBody([]map[string]any{{"patchType": "update", "patchClientId": 1, "name": "Stolen"}})},
		{"DELETE", "", nil},
	}
	for _, r := range requests {
		other := requireV5Error(t, env.Do(r.method, terminationPath(id, r.suffix), env.B.OperatorKey, r.body), http.StatusNotFound)
		// Exactly like a missing one, naming only what was asked for.
		assert.Equal(t, strings.Replace(missing.Message, "99999999", fmt.Sprint(id), 1), other.Message, r.method+r.suffix)
		assert.NotContains(t, string(env.Do(r.method, terminationPath(id, r.suffix), env.B.OperatorKey, r.body).Body), "Tenant A only")
	}

	list := env.Do("GET", terminationsPath, env.B.SubmitterKey, nil).JSON(t)
	assert.EqualValues(t, 0, list["totalCount"])
	assert.Empty(t, list["items"])
	paged := env.Do("GET", terminationsPath+"/Paged/Detail", env.B.SubmitterKey, nil).JSON(t)["pagedResults"].(map[string]any)
	assert.EqualValues(t, 0, paged["totalCount"])
	assert.Empty(t, paged["items"])

	// Tenant B has no catalog, so no penalty service to name.
	noCatalog := requireV5Error(t, env.Do("POST", terminationsPath, env.B.OperatorKey, map[string]any{"penaltyServiceId": 1, "name": "Fee"}), http.StatusBadRequest)
	assert.Contains(t, noCatalog.errorText(), "penaltyServiceId 1 is not one of the catalog's penaltyServices")

	assert.Equal(t, before, detail(t, env, id))
	assert.Equal(t, 1, env.CountRows("contract_terminations"))
}

func TestTerminationAuth(t *testing.T) {
	env := testkit.New(t)
	id := createTermination(t, env, "Fee")

	noKey := requireV5Error(t, env.Do("GET", terminationsPath, "", nil), http.StatusUnauthorized)
	assert.Contains(t, noKey.Message, "API key is required")
	requireV5Error(t, env.Do("GET", terminationsPath+"/Paged", "ck_nope_123", nil), http.StatusUnauthorized)
	viaHeader := env.Do("GET", terminationsPath, "", nil, "apiKey", env.A.SubmitterKey)
	assert.Equal(t, http.StatusOK, viaHeader.Status)

	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", terminationsPath, map[string]any{"penaltyServiceId": 1, "name": "Fee"}},
		{"PUT", terminationPath(id, ""), map[string]any{"penaltyServiceId": 1, "name": "Fee"}},
		{"PATCH", terminationPath(id, ""), patchBody(nil, chargeItem(1, 0, 1, 100, "USD"))},
		{"DELETE", terminationPath(id, ""), nil},
	}
	for _, key := range []string{env.A.SubmitterKey, env.A.ApproverKey} {
		for _, w := range writes {
			body := requireV5Error(t, env.Do(w.method, w.path, key, w.body), http.StatusForbidden)
			assert.Contains(t, body.Message, "operator", w.method)
		}
		for _, path := range []string{terminationsPath, terminationsPath + "/Paged", terminationsPath + "/Paged/Detail", terminationPath(id, ""), terminationPath(id, "/Detail")} {
			assert.Equal(t, http.StatusOK, env.Do("GET", path, key, nil).Status, path)
		}
	}
	assert.Equal(t, 1, env.CountRows("contract_terminations"))
	assert.Zero(t, env.CountRows("contract_termination_period_charges"))
}
