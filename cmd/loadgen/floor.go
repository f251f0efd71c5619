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

// measureFloor starts and awaits FloorWorkflow from this process at the
// run's concurrency, as many times as the run sent requests.
func measureFloor(ctx context.Context, o options) (kindStats, error) {
	db, err := sqlx.Open("postgres", o.databaseURL)
	if err != nil {
		return kindStats{}, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS loadgen_floor (id uuid PRIMARY KEY, at timestamptz NOT NULL)`); err != nil {
		return kindStats{}, fmt.Errorf("create floor table: %w", err)
	}
	c, err := client.Dial(client.Options{
		HostPort: o.temporal, Namespace: o.namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		return kindStats{}, err
	}
	defer c.Close()
	w := worker.New(c, floorTaskQueue, worker.Options{})
	w.RegisterWorkflow(FloorWorkflow)
	w.RegisterActivity(&floorActivities{db: db})
	if err := w.Start(); err != nil {
		return kindStats{}, err
	}
	defer w.Stop()

	fmt.Fprintf(os.Stderr, "measuring the floor: %d workflows at concurrency %d…\n", o.requests, o.concurrency)
	rec := newRecorder()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.requests) && ctx.Err() == nil {
				t := time.Now()
				id := uuid.NewString()
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "loadgen-floor/" + id, TaskQueue: floorTaskQueue}, FloorWorkflow, id)
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
	rep := rec.report(time.Since(start), o)
	if len(rep.Kinds) == 0 {
		return kindStats{}, fmt.Errorf("no floor workflow ran")
	}
	return rep.Kinds[0], nil
}
