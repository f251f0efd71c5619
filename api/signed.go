package api

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/store"
)

// Signed requests (keys of source HMAC) name their key by id and carry
// `X-Signature: t=<unix seconds>,v1=<auth.SignRequest in hex>` instead of
// presenting the key itself.
const (
	keyIDHeader     = "X-Key-Id"
	signatureHeader = "X-Signature"
	// signatureWindow bounds how far a signature's timestamp may be from now,
	// and so how long a captured request can be replayed.
	signatureWindow = 5 * time.Minute
)

// signedPrincipal verifies a signed request and returns its caller. Its
// body is read (bounded by MaxBodyBytes and BodyReadTimeout, and by the
// signed bodies being read at once: readSigned) to check it, and put back
// for the handler, only once its key is found and its signature's form and
// timestamp hold, and after lookedUp: a made-up key id costs no body read
// or buffered.
func (s *server) signedPrincipal(c *gin.Context, keyID string, lookedUp func()) (auth.Principal, error) {
	p, secret, err := s.lookups.lookup(c.Request.Context(), "id\x00"+keyID, func(ctx context.Context) (auth.Principal, []byte, error) {
		return s.Store.SigningKey(ctx, keyID)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Source != auth.SourceHMAC) {
		return auth.Principal{}, refusal("the key id is not a valid signing key")
	}
	if err != nil {
		return auth.Principal{}, err
	}
	ts, sig, ok := parseSignature(c.GetHeader(signatureHeader))
	if !ok {
		return auth.Principal{}, refusal(signatureHeader + " must be t=<unix seconds>,v1=<hex HMAC-SHA256>")
	}
	if age := time.Since(time.Unix(ts, 0)); age > signatureWindow || age < -signatureWindow {
		return auth.Principal{}, refusal(fmt.Sprintf("the signature's timestamp is more than %v from now", signatureWindow))
	}
	lookedUp()
	want, err := s.readSigned(c, secret, ts, sig)
	if err != nil {
		return auth.Principal{}, err
	}
	if c.Request.Method == http.MethodGet { // HEAD too (headAsGet)
		// A read changes nothing, and a client may poll one faster than
		// its timestamp's second changes.
		return p, nil
	}
	// A change once only: captured on its way, it cannot be sent again
	// while its timestamp is within the window.
	// Kept twice the window past its timestamp: expired by the database's
	// clock, which may run ahead of this process's.
	first, err := s.Store.UseSignature(c.Request.Context(), p.KeyID, want, time.Unix(ts, 0).Add(2*signatureWindow))
	if err != nil {
		return auth.Principal{}, err
	}
	if !first {
		return auth.Principal{}, refusal("this signed request was received already; sign each change anew (a new timestamp)")
	}
	return p, nil
}

// readSigned reads a signed request's body, and puts it back for the
// handler, and checks the request's signature (sig, of time ts) over it,
// returning the signature it should have (want). A body is read in a place
// among the signed bodies being read (signedBodies), given back once its
// signature is checked, matching or not.
func (s *server) readSigned(c *gin.Context, secret []byte, ts int64, sig string) (want string, err error) {
	if size := signedBodySize(c.Request); size > 0 {
		release, err := s.signedBodies.take(c.Request.Context(), clientAddress(c), size)
		if err != nil {
			return "", err
		}
		defer release()
	}
	body, err := readBody(c)
	if err != nil {
		return "", err
	}
	c.Request.Body = buffered(body)
	want = auth.SignRequest(secret, sentMethod(c), c.Request.URL.RequestURI(), ts, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", refusal("the signature does not match the request")
	}
	return want, nil
}

func parseSignature(h string) (int64, string, bool) {
	t, v1, ok := strings.Cut(h, ",")
	if !ok {
		return 0, "", false
	}
	t, okT := strings.CutPrefix(strings.TrimSpace(t), "t=")
	v1, okV := strings.CutPrefix(strings.TrimSpace(v1), "v1=")
	ts, err := strconv.ParseInt(t, 10, 64)
	return ts, v1, okT && okV && err == nil
}
