package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
