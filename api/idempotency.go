package api

import (
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
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
