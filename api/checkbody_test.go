package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/contractd/contractd/internal/domain"
)

func TestCheckBodyRefusesWhatDecodingWouldHide(t *testing.T) {
	cases := []struct {
		name, body string
		into       any
		says       string
	}{
		{"duplicated key", `{"action": "CANCELLATION", "action": "QUANTITY_CHANGE"}`, &domain.Change{}, "action appears twice"},
		{"duplicated nested key", `{"payload": {"offerings": [{"offeringId": "a", "offeringId": "b"}]}}`, &domain.Change{}, "payload.offerings[].offeringId appears twice"},
		{"NUL in a discarded duplicate", `{"comment": "x\u0000", "comment": "ok"}`, &decisionRequest{}, "comment must not contain a NUL"},
		{"NUL in an unknown field", `{"colour": {"deep": ["\u0000"]}}`, &decisionRequest{}, "NUL"},
		{"NUL in a key", `{"quantities\u0000": 1}`, &decisionRequest{}, "NUL"},
		{"invalid UTF-8", "{\"comment\": \"\xc3\x28\"}", &decisionRequest{}, "UTF-8"},
		{"too long", `{"comment": "` + repeat("x", maxComment+1) + `"}`, &decisionRequest{}, "longer than 1000"},
		{"2^63", `{"payload": {"offerings": [{"offeringId": "o", "products": [{"productId": "p", "quantity": 9223372036854775808}]}]}}`, &domain.Change{}, "quantity must be a whole number from 0 to 1,000,000,000"},
		{"negative", `{"payload": {"offerings": [{"offeringId": "o", "products": [{"productId": "p", "quantity": -1}]}]}}`, &domain.Change{}, "quantity must be"},
		{"year 1", `{"asOf": "0001-01-01"}`, &billingRunRequest{}, "zero date"},
		{"year 9999", `{"asOf": "9999-12-31"}`, &billingRunRequest{}, "outside the years"},
		// The years bound a time in UTC, as it is stored.
		{"1899 in UTC", `{"name": "x", "frozenTime": "1900-01-01T00:00:00+14:00"}`, &testClockRequest{}, "outside the years"},
		{"3000 in UTC", `{"to": "2999-12-31T23:59:59-14:00"}`, &clockAdvanceRequest{}, "outside the years"},
		{"too many items", `{"events": [` + repeat(`"a",`, 50) + `"a"]}`, &webhookRequest{}, "more than 50 items"},
		{"refused field", `{"crossgrade": {}}`, &domain.Change{}, "crossgrade is not accepted"},
		{"not an object", `null`, &domain.Catalog{}, "must be a JSON object"},
		{"control character in an id", `{"contractId": "CT-1\n"}`, &domain.Change{}, "control characters"},
		// encoding/json would decode these keys into the field, past its limits.
		{"key in upper case", `{"COMMENT": "x"}`, &decisionRequest{}, "COMMENT must be spelt comment"},
		{"nested key in another case", `{"payload": {"offerings": [{"OfferingID": "o"}]}}`, &domain.Change{}, "must be spelt payload.offerings[].offeringId"},
		{"long s for s", `{"payload": {"offerings": [{"offeringId": "o", "product\u017f": []}]}}`, &domain.Change{}, "must be spelt payload.offerings[].products"},
	}
	for _, tc := range cases {
		err := decodeStrict([]byte(tc.body), tc.into)
		var be *bodyError
		if assert.True(t, errors.As(err, &be), "%s: %v", tc.name, err) {
			assert.Contains(t, be.Error(), tc.says, tc.name)
		}
	}
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// A key is refused for its spelling only when encoding/json would take it
// for another field: the long s is folded with s, as the decoder folds it
// (it put "product\u017f" into Products), and no two fields of one body
// type fold together, so the field a refusal names is the one.
func TestSpellingsFoldAsTheDecoderFoldsThem(t *testing.T) {
	var into struct{ Products []int }
	assert.NoError(t, json.Unmarshal([]byte(`{"product\u017f": [1]}`), &into))
	assert.Equal(t, []int{1}, into.Products)
	assert.Equal(t, foldedPath("products"), foldedPath("PRODUCT\u017f"))
	assert.Equal(t, foldedPath("kelvin.products"), foldedPath("\u212aELVIN.product\u017f"), "non-ASCII letters before and after ASCII ones")
	assert.NotEqual(t, foldedPath("products"), foldedPath("product"))
	for _, b := range bodySchemas {
		assert.Len(t, schemaFor(b.Type).spelling, len(b.Fields), "%s has two fields spelt alike but for case", b.Type)
	}
}

// Every request type nests well within maxBodyDepth, so the bound refuses
// only bodies no type could take; the deepest nest 6 levels (a catalog's
// unit prices, a change's products, a contract action's currencies).
func TestBodyTypesNestWellWithinTheDepthLimit(t *testing.T) {
	deepest := 0
	for _, b := range bodySchemas {
		for path := range fieldPaths(b.Type) {
			deepest = max(deepest, 1+strings.Count(path, ".")+strings.Count(path, "[]")+strings.Count(path, "{}"))
		}
	}
	assert.Equal(t, 6, deepest)
	assert.Less(t, deepest, maxBodyDepth/4)
}

// The depth bound counts lists and objects: 32 levels pass the check (the
// decoder judges the fields), a 33rd is refused.
func TestCheckBodyRefusesTheLevelPastTheDepthLimit(t *testing.T) {
	nested := func(levels int) []byte {
		return []byte(strings.Repeat(`{"a":`, levels-1) + "[]" + strings.Repeat("}", levels-1))
	}
	var change domain.Change
	assert.NoError(t, checkBody(nested(maxBodyDepth), &change))
	err := checkBody(nested(maxBodyDepth+1), &change)
	var be *bodyError
	if assert.True(t, errors.As(err, &be), "%v", err) {
		assert.Contains(t, be.msg, "more than 32 levels deep")
	}
}
