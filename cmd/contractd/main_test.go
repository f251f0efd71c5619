package main

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runMainEnv makes the test binary run main() with the arguments after
// "--", so a test can watch the command start as an operator would.
const runMainEnv = "CONTRACTD_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		for i, arg := range os.Args {
			if arg == "--" {
				os.Args = append([]string{"contractd"}, os.Args[i+1:]...)
				main()
				os.Exit(0)
			}
		}
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// A TRUSTED_PROXIES the service cannot read, or too wide to be a proxy
// tier (alone, or in all: five /8s apart), stops `api` (and every other
// command) before it does anything, saying what is wrong: started anyway,
// it would trust some other set of peers than the operator meant.
func TestABadTrustedProxiesStopsTheStart(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "0.0.0.0/0", "0.0.0.0/1", "1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,9.0.0.0/8"} {
		cmd := exec.Command(os.Args[0], "--", "api")
		// Were the value accepted, the start would fail on the database
		// instead, at once, and say so.
		cmd.Env = append(os.Environ(), runMainEnv+"=1", "TRUSTED_PROXIES="+bad,
			"DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
			"CONTRACTD_STATE_DIR="+t.TempDir(), "TEMPORAL_ADDRESS=127.0.0.1:1")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%s: %v: %s", bad, err, out)
		assert.Equal(t, 2, exit.ExitCode(), "%s: %s", bad, out)
		assert.Contains(t, string(out), "contractd: TRUSTED_PROXIES must ", bad)
		assert.Contains(t, string(out), `"`+bad+`"`)
	}
}
