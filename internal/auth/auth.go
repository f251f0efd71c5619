// Package auth defines who is calling: API keys, their hashes, and the
// principal a key stands for.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Role is what a key may do.
type Role string

const (
	RoleSubmitter Role = "submitter"
	RoleApprover  Role = "approver"
	RoleOperator  Role = "operator"
)

// AllRoles in the order keys are issued.
var AllRoles = []Role{RoleSubmitter, RoleApprover, RoleOperator}

// Source says how a change reached the service; it is recorded on every change.
type Source string

const (
	SourceUser     Source = "USER"
	SourceCustomer Source = "CUSTOMER"
	SourceHMAC     Source = "HMAC"
)

// Principal is the authenticated caller. It is derived from the key alone:
// identity headers a client sends are never trusted.
type Principal struct {
	KeyID        string
	TenantID     string
	TenantPrefix string
	ActorID      string
	Roles        []Role
	Source       Source
	// AccountNumber binds a SourceCustomer key to the one account of its
	// tenant whose contracts it may act on; empty for every other key.
	AccountNumber string
}

// Has reports whether the principal holds role.
func (p Principal) Has(role Role) bool { return slices.Contains(p.Roles, role) }

// NewKey returns a fresh random API key. Keys carry 160 bits of entropy, so a
// fast hash (SHA-256) is enough to store them safely.
func NewKey(prefix string) (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return "ck_" + strings.ToLower(prefix) + "_" + strings.ToLower(enc), nil
}

// HashKey is the only form in which a key is stored.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// SigningSecret is what a SourceHMAC key signs its requests with: the key's
// hash. The service keeps keys only hashed, so this lets it verify signatures
// without holding any key in plain text; in exchange, whoever can read the
// api_keys table can forge signed requests (as with webhook secrets).
func SigningSecret(key string) []byte { return []byte(HashKey(key)) }

// SignRequest is the hex HMAC-SHA256 a SourceHMAC key sends with a request:
// over the method, the path with its query, the Unix timestamp and the body,
// so none of them can be changed; the API accepts a timestamp only near
// its own time, and each signature once.
func SignRequest(secret []byte, method, pathAndQuery string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n", method, pathAndQuery, timestamp)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
