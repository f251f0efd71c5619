package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpdateKeyIsGeneratedOncePerStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first := Config{StateDir: dir}
	require.NoError(t, first.EnsureUpdateKey())
	assert.GreaterOrEqual(t, len(first.UpdateKey), MinUpdateKeyLength)
	info, err := os.Stat(filepath.Join(dir, updateKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "readable by its owner only")

	// An api and a worker sharing the directory share the key.
	second := Config{StateDir: dir}
	require.NoError(t, second.EnsureUpdateKey())
	assert.Equal(t, first.UpdateKey, second.UpdateKey)

	// CONTRACTD_UPDATE_KEY wins, and must be long enough.
	t.Setenv("CONTRACTD_UPDATE_KEY", "too short")
	_, err = FromEnv()
	assert.ErrorContains(t, err, "CONTRACTD_UPDATE_KEY")
	t.Setenv("CONTRACTD_UPDATE_KEY", "a key given by the operator, long enough")
	fromEnv, err := FromEnv()
	require.NoError(t, err)
	fromEnv.StateDir = dir
	require.NoError(t, fromEnv.EnsureUpdateKey())
	assert.Equal(t, "a key given by the operator, long enough", string(fromEnv.UpdateKey))
}
