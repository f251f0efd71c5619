package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dev publishes its demo keys, so unless told otherwise it answers on
// loopback only; api and worker keep listening on every interface.
func TestListenAddrDefaultsToLoopbackInDev(t *testing.T) {
	t.Setenv("HTTP_ADDR", "")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.ListenAddr(true))
	assert.Equal(t, ":8080", cfg.ListenAddr(false))
}

func TestListenAddrExplicitVariableOpensDev(t *testing.T) {
	t.Setenv("HTTP_ADDR", ":9000")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, ":9000", cfg.ListenAddr(true))
	assert.Equal(t, ":9000", cfg.ListenAddr(false))
}

func TestWaitsArePositiveDurationsWithinTheirBound(t *testing.T) {
	waits := []struct {
		name     string
		def      time.Duration
		read     func(Config) time.Duration
		tooLongs []string
	}{
		{"BILLING_RUN_WAIT", DefaultBillingRunWait, func(c Config) time.Duration { return c.BillingRunWait }, []string{"31s", "1h"}},
		{"AMENDMENT_WAIT", DefaultAmendmentWait, func(c Config) time.Duration { return c.AmendmentWait }, []string{"121s", "1h"}},
		{"BODY_READ_TIMEOUT", DefaultBodyReadTimeout, func(c Config) time.Duration { return c.BodyReadTimeout }, []string{"301s", "1h"}},
	}
	for _, w := range waits {
		t.Setenv(w.name, "")
		cfg, err := FromEnv()
		require.NoError(t, err)
		assert.Equal(t, w.def, w.read(cfg), w.name)

		t.Setenv(w.name, "250ms")
		cfg, err = FromEnv()
		require.NoError(t, err)
		assert.Equal(t, 250*time.Millisecond, w.read(cfg), w.name)

		for _, bad := range append([]string{"0", "-1s", "5", "soon"}, w.tooLongs...) {
			t.Setenv(w.name, bad)
			_, err = FromEnv()
			assert.ErrorContains(t, err, w.name, bad)
		}
		t.Setenv(w.name, "")
	}
}
