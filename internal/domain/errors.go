package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a domain error; each API surface maps kinds to its own
// status codes and error bodies in exactly one place.
type Kind string

const (
	KindInvalid       Kind = "INVALID"       // malformed or invalid input
	KindNotFound      Kind = "NOT_FOUND"     // unknown, or another tenant's, object
	KindForbidden     Kind = "FORBIDDEN"     // the object may not be changed through the API
	KindConflict      Kind = "CONFLICT"      // clashes with current state (open amendment, …)
	KindUnprocessable Kind = "UNPROCESSABLE" // understood but not allowed
	// KindInternal is a failure that can never succeed, such as a value
	// Postgres refuses to store: the request ends at once (500) instead of
	// being retried, and leaves nothing open behind it.
	KindInternal Kind = "INTERNAL"
)

// Error is a typed business error. Fault names the crossgrade surface's
// fault when the error comes from a crossgrade.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Fault   Fault
}

func (e *Error) Error() string {
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// ErrIdempotencyKeyReused refuses a request whose Idempotency-Key came
// before with another body, wherever that is found: by the API reading the
// first request's amendment, by the workflow's validator, or by the store
// when a second request opens the amendment again.
var ErrIdempotencyKeyReused = Errorf(KindUnprocessable, "Idempotency-Key",
	"this Idempotency-Key was already used with a different request body")

// Errorf builds an Error of kind for field.
func Errorf(kind Kind, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of a domain error in err's chain, or "".
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return ""
}

// Problems collects every validation failure of a document so a client can
// fix them all in one round trip.
type Problems []string

// Addf records one problem.
func (p *Problems) Addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// Err is nil when there are no problems, else a KindInvalid error listing them.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// ValidationError carries every problem found in a document.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid: " + strings.Join(e.Problems, "; ")
}
