package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/lib/pq"
)

// lib/pq runs a query with parameters as two round trips, Parse/Describe and
// then Bind/Execute, and Postgres parses and plans it afresh each time. The
// service runs the same few dozen statements over and over, so each pooled
// connection keeps them prepared: running one is then a single round trip,
// parsed once per connection.

// maxPreparedPerConn bounds a connection's prepared statements; queries
// beyond it (dynamic listing filters can make many shapes) run unprepared.
const maxPreparedPerConn = 256

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// preparedStatement is what the cache runs of a lib/pq statement.
type preparedStatement interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// preparingConnector hands out connections that prepare what they run.
type preparingConnector struct{ driver.Connector }

func (c preparingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok {
		return conn, nil
	}
	return &preparingConn{pqConn: pc, prepared: map[string]preparedStatement{}}, nil
}

// preparingConn is a lib/pq connection with its statements kept prepared.
// database/sql uses a connection from one goroutine at a time, so the map
// needs no lock.
type preparingConn struct {
	pqConn
	prepared map[string]preparedStatement
	inTx     bool
}

func (c *preparingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.pqConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return connTx{Tx: tx, conn: c}, nil
}

// connTx tells its connection when the transaction ends.
type connTx struct {
	driver.Tx
	conn *preparingConn
}

func (t connTx) Commit() error {
	t.conn.inTx = false
	return t.Tx.Commit()
}

func (t connTx) Rollback() error {
	t.conn.inTx = false
	return t.Tx.Rollback()
}

func (c *preparingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return runPrepared(c, ctx, query, args, preparedStatement.QueryContext, c.pqConn.QueryContext)
}

func (c *preparingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return runPrepared(c, ctx, query, args, preparedStatement.ExecContext, c.pqConn.ExecContext)
}

// runPrepared runs query as a statement prepared on c when it can, and as it
// is otherwise: when it should not be prepared, and when its prepared plan
// went stale outside a transaction.
func runPrepared[R any](c *preparingConn, ctx context.Context, query string, args []driver.NamedValue,
	prepared func(preparedStatement, context.Context, []driver.NamedValue) (R, error),
	unprepared func(context.Context, string, []driver.NamedValue) (R, error)) (R, error) {
	st, err := c.statement(ctx, query, args)
	switch {
	case err != nil:
		var none R
		return none, err
	case st == nil:
		return unprepared(ctx, query, args)
	}
	out, err := prepared(st, ctx, args)
	if c.forgetIfStale(query, err) && !c.inTx {
		return unprepared(ctx, query, args)
	}
	return out, err
}

// statement returns query prepared on this connection, or nil when it is
// better run as it is: without parameters lib/pq sends it in one round trip
// already, and a full cache takes no more.
func (c *preparingConn) statement(ctx context.Context, query string, args []driver.NamedValue) (preparedStatement, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if st, ok := c.prepared[query]; ok {
		return st, nil
	}
	if len(c.prepared) >= maxPreparedPerConn {
		return nil, nil
	}
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps, ok := st.(preparedStatement)
	if !ok {
		_ = st.Close()
		return nil, nil
	}
	c.prepared[query] = ps
	return ps, nil
}

// forgetIfStale drops a statement Postgres can no longer run as prepared,
// and reports whether it did. After a migration changed the columns a
// statement returns, it fails with "cached plan must not change result type"
// (0A000). Outside a transaction the caller then runs the query afresh;
// inside one, Postgres has failed the transaction, and the error goes back
// to whoever retries it, whose run prepares the statement again.
func (c *preparingConn) forgetIfStale(query string, err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "0A000" || !strings.Contains(pqErr.Message, "cached plan") {
		return false
	}
	st := c.prepared[query]
	delete(c.prepared, query)
	_ = st.Close()
	return true
}
