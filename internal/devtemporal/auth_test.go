package devtemporal

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// dialEmbedded connects to the embedded server on port, presenting token
// when there is one, as contractd's processes do.
func dialEmbedded(t *testing.T, port int, token string) client.Client {
	t.Helper()
	opts := client.Options{HostPort: net.JoinHostPort(loopback, strconv.Itoa(port))}
	if token != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(token)
		opts.ConnectionOptions.TLSDisabled = true
	}
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// The embedded frontend lets only the holder of its write token write: any
// other caller (the Web UI, another process on the machine) lists,
// describes and queries, but cannot start, signal or terminate a workflow.
// A probe started an AmendmentWorkflow with a forged input through the
// frontend, and through the read-only UI (its write filter lets a POST
// through whose workflow id spells "/query/"), and the change applied. The
// server's own scheduler, on its internal frontend, still starts what a
// schedule says (the daily billing run is one).
func TestOnlyTheWriteTokenWritesToTheEmbeddedServer(t *testing.T) {
	port := freeFrontendPort(t)
	srv, err := Start(Options{StateDir: t.TempDir(), Namespace: "default", FrontendPort: port, LogLevel: "error", WriteToken: "the-write-token"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writer, reader, wrong := dialEmbedded(t, port, "the-write-token"), dialEmbedded(t, port, ""), dialEmbedded(t, port, "a-guess")

	_, err = writer.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "written", TaskQueue: "nobody-polls"}, "AnyWorkflow")
	require.NoError(t, err)
	for name, c := range map[string]client.Client{"no token": reader, "a wrong token": wrong} {
		_, err := c.DescribeWorkflowExecution(ctx, "written", "")
		assert.NoError(t, err, "%s reads", name)
		var denied *serviceerror.PermissionDenied
		_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "forged", TaskQueue: "nobody-polls"}, "AnyWorkflow")
		assert.ErrorAs(t, err, &denied, "%s starts nothing", name)
		assert.ErrorAs(t, c.SignalWorkflow(ctx, "written", "", "any", nil), &denied, "%s signals nothing", name)
		assert.ErrorAs(t, c.TerminateWorkflow(ctx, "written", "", "forged"), &denied, "%s terminates nothing", name)
	}

	// Nor around it: the internal frontend, which serves the server's own
	// workers with every right, and the other services take only the
	// server's internal certificate (a probe started a forged amendment
	// through the internal frontend).
	for _, offset := range []int{1, 2, 4} {
		for name, tlsConfig := range map[string]*tls.Config{"plain": nil, "TLS without a certificate": {InsecureSkipVerify: true}} {
			c, err := client.Dial(client.Options{HostPort: net.JoinHostPort(loopback, strconv.Itoa(port+offset)),
				ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig}})
			if err == nil {
				_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "around-the-frontend", TaskQueue: "nobody-polls"}, "AnyWorkflow")
				c.Close()
			}
			assert.Error(t, err, "port +%d, %s", offset, name)
		}
	}
	var notFound *serviceerror.NotFound
	_, err = reader.DescribeWorkflowExecution(ctx, "around-the-frontend", "")
	assert.ErrorAs(t, err, &notFound)

	schedule, err := writer.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: "every-day", Spec: client.ScheduleSpec{}, TriggerImmediately: true,
		Action: &client.ScheduleWorkflowAction{ID: "scheduled", Workflow: "AnyWorkflow", TaskQueue: "nobody-polls"},
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		desc, err := schedule.Describe(ctx)
		return err == nil && len(desc.Info.RecentActions) > 0
	}, 30*time.Second, 100*time.Millisecond, "the scheduler started the schedule's workflow")
}
