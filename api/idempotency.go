package api

import (
	"github.com/google/uuid"

	"github.com/contractd/contractd/internal/domain"
)

// idempotencyHeader names the client's retry key: the same key and body
// return the first answer; the same key with another body is refused.
const idempotencyHeader = "Idempotency-Key"

var errIdempotencyMismatch = domain.Errorf(domain.KindUnprocessable, idempotencyHeader,
	"this Idempotency-Key was already used with a different request body")

// idempotentID derives a stable id from a tenant's idempotency key, so a
// retried request addresses the same workflow and rows as the first.
func idempotentID(tenantID, scope, key string) string {
	ns := uuid.NewSHA1(uuid.NameSpaceOID, []byte(tenantID))
	return uuid.NewSHA1(ns, []byte(scope+"\x00"+key)).String()
}
