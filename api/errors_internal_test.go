package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/testkit/testdb"
)

// A Postgres that does not answer is a dependency outage (503, retry), not a
// bug (500): check the errors lib/pq really returns for one.
func TestPostgresOutageIsUnavailable(t *testing.T) {
	// Nothing listens on port 1 of the loopback address.
	db, err := sql.Open("postgres", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	require.Error(t, err)
	assert.True(t, isUnavailable(fmt.Errorf("load contract: %w", err)), "%v", err)
	assert.False(t, isUnavailable(errors.New("some bug")))
}

func TestTemporalNotReadyIsUnavailable(t *testing.T) {
	// What an Update gets while the workflow's task is being retried.
	notReady := serviceerror.NewWorkflowNotReady("Unable to perform workflow execution update due to Workflow Task in failed state.")
	assert.True(t, isUnavailable(fmt.Errorf("update amendment: %w", notReady)))
	assert.True(t, isUnavailable(serviceerror.NewResourceExhausted(0, "busy")))
	// What a contract action's request got when its workflow's step waited
	// 30 s for a lock and the workflow ran out of time.
	assert.True(t, isUnavailable(fmt.Errorf("workflow execution error (type: ContractActionWorkflow): %w",
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, nil))))
}

// A client that hung up mid-request (here, while the SDK waited on Temporal)
// is not a server error, whatever form the error that followed took.
func TestClientThatHungUpIsNotAServerError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/api/selfService/contract", nil).WithContext(ctx)
	s := &server{Deps: Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	assert.Equal(t, statusClientClosedRequest, s.classify(c, errors.New("rpc error: code = Canceled desc = context canceled")).Status)

	c.Request = httptest.NewRequest("POST", "/api/selfService/contract", nil)
	assert.Equal(t, 500, s.classify(c, errors.New("some bug")).Status, "a live request's unknown error is still a 500")
}

// A deadlock ends one of the transactions in it, undone: a request whose
// transaction it was is answered 503 with Retry-After, to be sent again,
// not 500. Checked on the error lib/pq returns for a real deadlock.
func TestADeadlockIsAnsweredAsRetryable(t *testing.T) {
	db, err := sql.Open("postgres", testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := t.Context()
	_, err = db.ExecContext(ctx, `CREATE TABLE rows (id int PRIMARY KEY); INSERT INTO rows VALUES (1), (2)`)
	require.NoError(t, err)

	first, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Rollback() })
	second, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Rollback() })
	_, err = first.ExecContext(ctx, `SELECT 1 FROM rows WHERE id = 1 FOR UPDATE`)
	require.NoError(t, err)
	_, err = second.ExecContext(ctx, `SELECT 1 FROM rows WHERE id = 2 FOR UPDATE`)
	require.NoError(t, err)
	waited := make(chan error, 1)
	go func() {
		_, err := first.ExecContext(ctx, `SELECT 1 FROM rows WHERE id = 2 FOR UPDATE`)
		waited <- err
	}()
	_, err = second.ExecContext(ctx, `SELECT 1 FROM rows WHERE id = 1 FOR UPDATE`)
	if err == nil { // Postgres ended the other one
		_ = second.Rollback()
		err = <-waited
	}
	require.Error(t, err, "one of the two is ended")

	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("PATCH", "/api/contractTerminations/1", nil)
	s := &server{Deps: Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	got := s.classify(c, fmt.Errorf("lock contract termination: %w", err))
	assert.Equal(t, http.StatusServiceUnavailable, got.Status, "%v", err)
	assert.Equal(t, "1", c.Writer.Header().Get("Retry-After"))
}
