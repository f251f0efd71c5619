// Package auth defines who is calling: API keys, their hashes, and the
// principal a key stands for.
package auth

import (
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
