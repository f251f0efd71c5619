package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// A run that outlasts the API's wait is followed with a progress bar to its
// totals; one that does not is printed at once. --json prints the API's answer.
func TestBillingRunFollowsALongRunToItsTotals(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})
	t.Setenv("CONTRACTD_URL", env.WithBillingRunWait(time.Nanosecond).HTTP.URL)
	t.Setenv("CONTRACTD_API_KEY", env.A.OperatorKey)
	ctx := context.Background()

	var out, bar bytes.Buffer
	require.NoError(t, runBillingRun(ctx, &out, &bar, []string{"--as-of", "2026-03-01", "--every", "50ms"}))
	assert.Contains(t, bar.String(), "[##############################] 1/1 contracts  invoiced 3  collected 3")
	assert.Equal(t, "billing run  2026-03-01\ninvoiced     3\ncollected    3\ndeclined     0\nfailed       0\nskipped      0\nrefused      -\n", out.String())

	t.Setenv("CONTRACTD_URL", env.HTTP.URL)
	out.Reset()
	bar.Reset()
	require.NoError(t, runBillingRun(ctx, &out, &bar, []string{"--as-of=2026-03-01", "--json"}))
	assert.Empty(t, bar.String(), "a run that ends within the wait has no progress to show")
	var totals map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &totals), out.String())
	assert.Equal(t, map[string]any{"asOf": "2026-03-01", "invoiced": 0.0, "collected": 0.0, "declined": 0.0, "failed": 0.0, "skipped": 0.0}, totals)
}

func TestBillingRunTakesNoArguments(t *testing.T) {
	t.Setenv("CONTRACTD_API_KEY", "unused")
	for _, args := range [][]string{{"2026-03-01"}, {"--every", "0s"}, {"--nope"}} {
		err := runBillingRun(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, args)
		if assert.Error(t, err, "%v", args) {
			assert.Contains(t, err.Error(), "usage: contractd billing-run", "%v", args)
		}
	}
}
