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

func TestBillingRunWaitIsAPositiveDuration(t *testing.T) {
	t.Setenv("BILLING_RUN_WAIT", "")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, DefaultBillingRunWait, cfg.BillingRunWait)

	t.Setenv("BILLING_RUN_WAIT", "250ms")
	cfg, err = FromEnv()
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, cfg.BillingRunWait)

	for _, bad := range []string{"0", "-1s", "5", "31s", "1h"} {
		t.Setenv("BILLING_RUN_WAIT", bad)
		_, err = FromEnv()
		assert.ErrorContains(t, err, "BILLING_RUN_WAIT", bad)
	}
}
