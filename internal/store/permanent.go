package store

import (
	"errors"

	"github.com/lib/pq"
)

// RefusedValue reports that Postgres refused a value itself: a data exception
// (SQLSTATE class 22: a NUL byte, invalid UTF-8, a number out of range) or a
// program limit (class 54: an index row too large). Sending the same value
// again fails the same way, so retrying is pointless.
func RefusedValue(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code.Class() == "22" || pqErr.Code.Class() == "54")
}

// IntegrityViolation reports a constraint violation (SQLSTATE class 23) that
// the store did not turn into a domain error. One may come from a race with
// a concurrent writer, which a retry resolves; one that repeats is the data's.
func IntegrityViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code.Class() == "23"
}
