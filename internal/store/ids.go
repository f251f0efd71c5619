package store

import "github.com/google/uuid"

// canonicalID is s as the uuid it spells, in its canonical form, and whether
// it spells one. uuid.Parse takes spellings Postgres refuses (urn:uuid:…),
// so the store's exported functions pass a client's id to Postgres only in
// this form.
func canonicalID(s string) (string, bool) {
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// asStored is id in its canonical spelling when it spells a uuid, and as it
// came otherwise (a lookup then finds nothing): for an exported function
// that passes the id on to several statements.
func asStored(id string) string {
	if canonical, ok := canonicalID(id); ok {
		return canonical
	}
	return id
}
