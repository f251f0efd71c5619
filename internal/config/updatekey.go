package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
	if found, err := c.ReadUpdateKey(); found || err != nil {
		return err
	}
	path := filepath.Join(c.StateDir, updateKeyFile)
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

// ReadUpdateKey sets UpdateKey as EnsureUpdateKey does, but generates
// none: it reports whether there is one, for a tool run beside the service
// (loadgen's floor against `dev`).
func (c *Config) ReadUpdateKey() (bool, error) {
	if len(c.UpdateKey) > 0 {
		return true, nil
	}
	key, err := readUpdateKey(filepath.Join(c.StateDir, updateKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	c.UpdateKey = key
	return err == nil, err
}

// EmbeddedTemporalToken is what `api`, `worker` and `dev` present to the
// embedded Temporal server (`dev`, `contractd temporal`) to start, signal,
// update or end workflows there; a caller without it (the Web UI, any other
// process on the machine) may only read. It is derived from UpdateKey, so
// processes that share that key share it; EnsureUpdateKey comes first.
func (c Config) EmbeddedTemporalToken() string {
	mac := hmac.New(sha256.New, c.UpdateKey)
	mac.Write([]byte("contractd embedded temporal frontend"))
	return hex.EncodeToString(mac.Sum(nil))
}
