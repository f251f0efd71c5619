package worker_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/devtemporal"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/worker"
)

// A worker that registers search attributes returns only once Temporal can
// use them: a workflow started with them at once is accepted. The server
// reads them from its caches, as in production, so a service that has not
// refreshed its namespace cache yet refuses an attribute registered a moment
// before (without the wait, this start failed: "no mapping defined").
func TestRegisteredSearchAttributesAreUsableAtOnce(t *testing.T) {
	port, err := devtemporal.FreeFrontendPort(30000)
	require.NoError(t, err)
	srv, err := devtemporal.Start(devtemporal.Options{StateDir: t.TempDir(), Namespace: "default", FrontendPort: port, LogLevel: "error"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := client.Dial(client.Options{HostPort: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	require.NoError(t, worker.EnsureSearchAttributes(ctx, c, "default"))
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "search-attributes-usable", TaskQueue: "nobody-polls",
		TypedSearchAttributes: temporal.NewSearchAttributes(flow.TenantIDKey.ValueSet("t"), flow.AmendmentStatusKey.ValueSet("APPLIED")),
	}, "AnyWorkflow")
	require.NoError(t, err)
}
