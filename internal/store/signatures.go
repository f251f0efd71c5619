package store

import (
	"context"
	"fmt"
	"time"
)

// UseSignature records that a signed request with signature (the hex
// HMAC of auth.SignRequest) was accepted for the key, until expires, when
// its timestamp leaves the window it is accepted in. It reports false for
// a signature the key has used already: the same request sent again. The
// key's expired signatures are deleted by the same statement.
func (s *Store) UseSignature(ctx context.Context, keyID, signature string, expires time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `WITH expired AS (
			DELETE FROM signed_request_signatures WHERE key_id = $1 AND expires_at < now())
		INSERT INTO signed_request_signatures (key_id, signature, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key_id, signature) DO NOTHING`, keyID, signature, expires)
	if err != nil {
		return false, fmt.Errorf("record a signed request's signature: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
