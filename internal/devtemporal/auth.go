package devtemporal

import (
	"crypto/subtle"

	"go.temporal.io/server/common/authorization"
)

// writerClaims gives the frontend's callers their rights: a caller that
// presents the write token (contractd's own processes) may do anything; any
// other (the Web UI, a process on the machine that dials the port) may only
// read. Reads are what inspecting needs (lists, histories, queries); a
// write (starting, signalling, updating, resetting or terminating a
// workflow, a batch operation, a schedule) could act on contracts around
// the API's checks. The server's own system workers use the internal
// frontend, which the server authorizes itself.
type writerClaims struct{ token string }

func (w writerClaims) GetClaims(info *authorization.AuthInfo) (*authorization.Claims, error) {
	if subtle.ConstantTimeCompare([]byte(info.AuthToken), []byte("Bearer "+w.token)) == 1 {
		return &authorization.Claims{System: authorization.RoleAdmin}, nil
	}
	return &authorization.Claims{System: authorization.RoleReader}, nil
}

// AuthInfoRequired is false: a caller without credentials gets claims too
// (a reader's), not a refusal of every call.
func (writerClaims) AuthInfoRequired() bool { return false }

// frontendAuthorization is the authorizer and claim mapper of the server's
// frontend: writes only with the token, or, without one, anything by anyone
// (the UI's write actions switched on).
func frontendAuthorization(token string) (authorization.Authorizer, authorization.ClaimMapper) {
	if token == "" {
		return authorization.NewNoopAuthorizer(), authorization.NewNoopClaimMapper()
	}
	return authorization.NewDefaultAuthorizer(), writerClaims{token: token}
}
