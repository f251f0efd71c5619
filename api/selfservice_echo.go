package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/domain"
)

// echoedAction is the action a self-service answer echoes: the one the body
// named, when it is one of the seed's six or RENEWAL_TERMS_CHANGE; null
// otherwise, since the seed's enum has no value for "none".
type echoedAction string

func (a echoedAction) MarshalJSON() ([]byte, error) {
	if a == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(a))
}

func echo(a domain.Action) echoedAction {
	if slices.Contains(domain.SelfServiceActions, a) {
		return echoedAction(a)
	}
	return ""
}

// actionInBody finds the action of a request refused before its handler read
// the body (authentication, rate limits). A body too large to read is not
// read. Nothing reads the body after such a refusal, so it is not restored.
func actionInBody(c *gin.Context, status int) domain.Action {
	if status == http.StatusRequestEntityTooLarge || c.Request.Body == nil {
		return ""
	}
	body, _ := io.ReadAll(io.LimitReader(c.Request.Body, MaxBodyBytes))
	return requestedAction(body)
}

// requestedAction is the top-level "action" a body names, found even when
// the body as a whole does not decode (the seed's own RATE_CHANGE sample has
// a trailing comma): it reads tokens only up to the action, or to the first
// syntax error.
func requestedAction(body []byte) domain.Action {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for {
		key, err := dec.Token()
		name, isKey := key.(string)
		if err != nil || !isKey {
			return ""
		}
		if name == "action" {
			value, _ := dec.Token()
			action, _ := value.(string)
			return domain.Action(action)
		}
		if skipValue(dec) != nil {
			return ""
		}
	}
}

// skipValue reads past one JSON value, however deeply nested.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// requirePayload refuses a body without "payload": the seed's schema
// requires it for every action, null for CANCELLATION, which decoding alone
// cannot tell from an absent one.
func requirePayload(body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return &bodyError{msg: "the request body must be a JSON object"}
	}
	if _, ok := top["payload"]; !ok {
		return domain.Errorf(domain.KindInvalid, "payload", "payload is required (null for CANCELLATION)")
	}
	return nil
}
