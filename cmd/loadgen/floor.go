package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/contractd/contractd/internal/config"
	_ "github.com/contractd/contractd/internal/fastgzip" // as the service's requests, with -temporal-gzip
)

const (
	floorKind      = "floor"
	floorTaskQueue = "loadgen-floor"
)

// floorActivities inserts one row: the least work a durable change can do.
type floorActivities struct{ db *sqlx.DB }

func (f *floorActivities) Insert(ctx context.Context, id string) error {
	_, err := f.db.ExecContext(ctx, `INSERT INTO loadgen_floor (id, at) VALUES ($1, now())`, id)
	return err
}

// FloorWorkflow is a bare workflow with one local activity.
func FloorWorkflow(ctx workflow.Context, id string) error {
	var f *floorActivities
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteLocalActivity(ctx, f.Insert, id).Get(ctx, nil)
}

// floor starts and awaits FloorWorkflow from this process, against the
// same Temporal server and database as the service.
type floor struct {
	db     *sqlx.DB
	client client.Client
	worker worker.Worker
}

func startFloor(ctx context.Context, o options) (*floor, error) {
	db, err := sqlx.Open("postgres", o.databaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS loadgen_floor (id uuid PRIMARY KEY, at timestamptz NOT NULL)`); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create floor table: %w", err)
	}
	// The floor's client compresses as the service's does (-temporal-gzip, at
	// fastgzip's level), so that the two differ only in what a change does.
	var compression client.GrpcCompression = &client.GrpcCompressionNone{}
	if o.temporalGzip {
		compression = &client.GrpcCompressionGzip{}
	}
	opts := client.Options{
		HostPort: o.temporal, Namespace: o.namespace,
		Logger:            sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: compression},
	}
	if token := embeddedTemporalToken(); token != "" {
		// `dev`'s embedded Temporal lets only its token write (start the
		// floor's workflows); another Temporal ignores it.
		opts.Credentials = client.NewAPIKeyStaticCredentials(token)
		opts.ConnectionOptions.TLSDisabled = true
	}
	c, err := client.Dial(opts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	w := worker.New(c, floorTaskQueue, worker.Options{})
	w.RegisterWorkflow(FloorWorkflow)
	w.RegisterActivity(&floorActivities{db: db})
	if err := w.Start(); err != nil {
		c.Close()
		_ = db.Close()
		return nil, err
	}
	return &floor{db: db, client: c, worker: w}, nil
}

func (f *floor) stop() {
	f.worker.Stop()
	f.client.Close()
	_ = f.db.Close()
}

// run starts and awaits n floor workflows at the run's concurrency, and
// returns how long they took.
func (f *floor) run(ctx context.Context, o options, n int, rec *recorder) time.Duration {
	fmt.Fprintf(os.Stderr, "floor: %d workflows at concurrency %d…\n", n, o.concurrency)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t := time.Now()
				id := uuid.NewString()
				run, err := f.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "loadgen-floor/" + id, TaskQueue: floorTaskQueue}, FloorWorkflow, id)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				status := "ok"
				if err != nil {
					status = "error"
				}
				rec.record(floorKind, time.Since(t), status, err == nil)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// embeddedTemporalToken is the write token of `dev`'s embedded Temporal
// (config.EmbeddedTemporalToken), from the update key of the environment
// loadgen runs in (CONTRACTD_UPDATE_KEY, or the key in CONTRACTD_STATE_DIR,
// ./.contractd by default), as `dev` reads it; "" without one.
func embeddedTemporalToken() string {
	cfg, err := config.FromEnv()
	if err != nil {
		return ""
	}
	if found, err := cfg.ReadUpdateKey(); !found || err != nil {
		return ""
	}
	return cfg.EmbeddedTemporalToken()
}
