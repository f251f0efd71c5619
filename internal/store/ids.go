package store

import "github.com/google/uuid"

// canonicalID is s as the uuid it spells, in its canonical form, and whether
// it spells one. uuid.Parse takes spellings Postgres refuses (urn:uuid:…),
// so an id from a client goes to Postgres only in this form.
func canonicalID(s string) (string, bool) {
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}
