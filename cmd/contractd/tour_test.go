package main

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's Endpoints examples are the tour's steps: scripts/tour.sh runs
// them as written and checks each answer. This keeps the two from drifting
// without a server: every README command must have a step, in order.
func TestTourCoversEveryReadmeExample(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	out, err := exec.Command("bash", "../../scripts/tour.sh", "--check").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "steps match the README's")
}
