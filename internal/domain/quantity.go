package domain

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// RequestedProduct is a product quantity as a self-service request writes
// it. The seed's schema requires quantity and types it "number", so 7.0 is
// read as 7; a missing quantity is never read as 0, and a fraction is refused
// by Change.Validate.
type RequestedProduct struct {
	ProductID string  `json:"productId"`
	Quantity  *Number `json:"quantity"`
}

// Count is the whole quantity; Change.Validate has made sure there is one.
func (p RequestedProduct) Count() int64 {
	if p.Quantity == nil {
		return 0
	}
	n, _ := p.Quantity.Whole()
	return n
}

// Number is a JSON number kept as written until it is checked.
type Number string

// UnmarshalJSON takes a JSON number literal only: a quoted number is a
// string, a type error like any other.
func (n *Number) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: "non-number " + string(b), Type: reflect.TypeOf(int64(0))}
	}
	*n = Number(b)
	return nil
}

// MarshalJSON writes the number as it was written.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// Whole is the number as an int64 when it is a whole number in range.
func (n Number) Whole() (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// checkQuantity refuses a missing quantity (400: the schema requires it), a
// fraction (422: a number, but no count of units) and a negative one (400).
func checkQuantity(q *Number, field string) error {
	if q == nil {
		return Errorf(KindInvalid, field, "%s is required", field)
	}
	n, whole := q.Whole()
	switch {
	case !whole:
		return Errorf(KindUnprocessable, field, "%s %s must be a whole number", field, *q)
	case n < 0:
		return Errorf(KindInvalid, field, "%s must not be negative", field)
	}
	return nil
}
