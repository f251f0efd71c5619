package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
)

// bodyError is a request body that cannot be decoded; its message names the
// offending field where JSON allows.
type bodyError struct {
	msg string
	// outOfRange marks a number of the right type outside its bounds, which
	// a surface that separates syntax (400) from validation (422) answers 422.
	outOfRange bool
}

func (e *bodyError) Error() string { return e.msg }

// readBody reads the whole (size-limited) body.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return nil, err
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, errBodyLate
		}
		return nil, &bodyError{msg: "could not read the request body"}
	}
	return body, nil
}

// bufferedBody is a request's body as read into memory ahead of its handler
// (readAhead, bodySize, a signature's check), read again from there.
type bufferedBody struct{ *bytes.Reader }

func (bufferedBody) Close() error { return nil }

func buffered(body []byte) io.ReadCloser { return bufferedBody{bytes.NewReader(body)} }

// readAhead reads a request's whole body, within BodyReadTimeout and
// MaxBodyBytes (limitBody), before its route's guards and handler decide
// anything: a handler that takes no body (DDCMS) or checks its path first
// (crossgrade's customer) would otherwise act, or answer, with a body still
// to come, and a body that never came changed a schedule and held its answer
// until the deadline. The handler then reads it from memory.
func readAhead(c *gin.Context) error {
	if _, done := c.Request.Body.(bufferedBody); done || c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	c.Request.Body = buffered(body)
	return nil
}

// errBodyLate is a body that did not arrive within BodyReadTimeout (see
// limitBody): 408.
var errBodyLate = errors.New("the request body did not arrive in time")

// decodeStrict decodes JSON into v, refusing unknown fields and trailing
// data, after holding the body to v's input limits (checkBody).
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &bodyError{msg: "the request body is empty; a JSON object is required"}
	}
	if err := checkBody(body, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	// Only white space may follow: dec.More would let a stray ] or } by,
	// and the raw body, stored as JSON, would then fail in Postgres.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &bodyError{msg: "the request body must hold a single JSON object"}
	}
	return nil
}

func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "the body"
		}
		return &bodyError{msg: fmt.Sprintf("%s: expected %s, got JSON %s", field, typeErr.Type, typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &bodyError{msg: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &bodyError{msg: "malformed JSON: the body ends too early"}
	default:
		// encoding/json reports unknown fields and bad dates in plain text that names the field.
		return &bodyError{msg: "invalid request body: " + err.Error()}
	}
}

// requestHash fingerprints a request for Idempotency-Key comparison. It is
// taken over the canonical JSON so whitespace and key order do not matter.
func requestHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var v any
		if json.Unmarshal(p, &v) == nil {
			p, _ = json.Marshal(v)
		}
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readJSON reads the body and decodes it strictly into v, returning the raw
// body too (for request hashes and stored requests).
func readJSON(c *gin.Context, v any) ([]byte, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	return body, decodeStrict(body, v)
}

// decodeBody reads the body and decodes it strictly into v.
func decodeBody(c *gin.Context, v any) error {
	_, err := readJSON(c, v)
	return err
}
