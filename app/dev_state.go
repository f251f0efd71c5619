package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// databaseIDFile names, in the embedded Temporal server's state directory,
// the database (store.DatabaseID) whose work its workflows hold.
const databaseIDFile = "database-id"

// claimTemporalState pairs the embedded Temporal server's state directory
// with the database it runs against, and refuses one paired with another.
// Its workflows name that database's rows and carry its counters (the
// webhook dispatcher goes on after the last event it fanned out): run
// against a database dropped and made again, they would skip the new
// one's work without a word. A directory made before the pairing, which
// holds no name, takes this database's.
func claimTemporalState(dir, databaseID string) error {
	path := filepath.Join(dir, databaseIDFile)
	held, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("make the embedded Temporal server's state directory: %w", err)
		}
		if err := os.WriteFile(path, []byte(databaseID+"\n"), 0o644); err != nil {
			return fmt.Errorf("pair the embedded Temporal server's state with the database: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read which database the embedded Temporal server's state belongs to: %w", err)
	case strings.TrimSpace(string(held)) != databaseID:
		return fmt.Errorf("the embedded Temporal server's state in %s was made with another database than DATABASE_URL's "+
			"(database %s, not %s): its workflows would skip this database's work. Remove %s to start Temporal afresh, "+
			"set CONTRACTD_STATE_DIR to another directory, or set DATABASE_URL back to the database it was made with",
			dir, strings.TrimSpace(string(held)), databaseID, dir)
	}
	return nil
}
