package api

import (
	"errors"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
)

// idempotencyHeader names the client's retry key: the same key and body
// return the first answer; the same key with another body is refused.
const idempotencyHeader = "Idempotency-Key"

// idempotencyKey is the request's Idempotency-Key in the caller's namespace.
// A customer key's keys are its account's own: were they the tenant's, an
// earlier request of another account with the same key would be answered to
// it (or at least betray that the key was used). The account goes before a
// newline, which no header value can hold, so no client can write a key into
// another namespace.
func idempotencyKey(c *gin.Context) string {
	key := c.GetHeader(idempotencyHeader)
	if account := principal(c).AccountNumber; key != "" && account != "" {
		return account + "\n" + key
	}
	return key
}

// idempotentID derives a stable id from a tenant's idempotency key, so a
// retried request addresses the same workflow and rows as the first.
func idempotentID(tenantID, scope, key string) string {
	ns := uuid.NewSHA1(uuid.NameSpaceOID, []byte(tenantID))
	return uuid.NewSHA1(ns, []byte(scope+"\x00"+key)).String()
}

// failUnlessRaced answers refusal in sf's format, unless the request has an
// Idempotency-Key and its change was made meanwhile by a copy sent at the
// same moment: repeatedRequest found no earlier request with the key, but
// the copy committed before this one was priced or reached its workflow.
// The refusal then comes from that copy's change (the offering it added is
// on the contract now, the discount it redeemed used up), or from a run of
// the key's workflow another body started; and the client, told its change
// failed, might make it again under a new key. respond answers with the
// key's amendment instead, when this request's body made it and it did not
// fail (a failed one is this request's own, refused for the reason the
// refusal gives: a declined payment, say); when another body made it, the
// refusal is that the key was used with another body. Anything else the
// second look meets leaves the refusal as it is.
func (s *server) failUnlessRaced(c *gin.Context, sf surface, hash string, refusal error, respond func(flow.Outcome)) {
	if idempotencyKey(c) != "" && !previewing(c) && businessRefusal(refusal) {
		earlier, err := s.repeatedRequest(c, hash)
		switch {
		case errors.Is(err, domain.ErrIdempotencyKeyReused):
			refusal = err
		case err == nil && earlier != nil && earlier.Amendment != nil && earlier.Amendment.Status != domain.StatusFailed:
			respond(*earlier)
			return
		}
	}
	s.failAs(c, sf, refusal)
}

// businessRefusal recognises a refusal of the request by the domain, made
// in the API or in a workflow, as opposed to a failure of the service.
func businessRefusal(err error) bool {
	var appErr *temporal.ApplicationError
	if kind := domain.KindOf(err); kind != "" {
		return kind != domain.KindInternal
	}
	return errors.As(err, &appErr) && kindStatus[domain.Kind(appErr.Type())] != 0
}
