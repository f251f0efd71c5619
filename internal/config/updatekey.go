package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinUpdateKeyLength is the shortest CONTRACTD_UPDATE_KEY accepted.
const MinUpdateKeyLength = 32

// updateKeyFile holds the generated key in the state directory.
const updateKeyFile = "update-key"

// EnsureUpdateKey sets UpdateKey, the key the API signs workflow Updates
// with and workers check them with: CONTRACTD_UPDATE_KEY when set, else the
// key stored in the state directory, generated there on first use. The API
// and its workers must share it: the same variable, or the same state
// directory.
func (c *Config) EnsureUpdateKey() error {
	if len(c.UpdateKey) > 0 {
		return nil
	}
	path := filepath.Join(c.StateDir, updateKeyFile)
	if key, err := readUpdateKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		c.UpdateKey = key
		return err
	}
	if err := os.MkdirAll(c.StateDir, 0o700); err != nil {
		return fmt.Errorf("state directory for the update key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("generate update key: %w", err)
	}
	// Written aside, then linked into place: a process starting alongside
	// (api and worker sharing the directory) reads a whole key, and only one
	// key wins.
	tmp, err := os.CreateTemp(c.StateDir, updateKeyFile+".*")
	if err != nil {
		return fmt.Errorf("write update key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(raw) + "\n")
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("write update key: %w", err)
	}
	c.UpdateKey, err = readUpdateKey(path)
	return err
}

func readUpdateKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(string(raw))
	if len(key) < MinUpdateKeyLength {
		return nil, fmt.Errorf("%s holds a key shorter than %d characters", path, MinUpdateKeyLength)
	}
	return []byte(key), nil
}
