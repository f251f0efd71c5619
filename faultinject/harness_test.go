//go:build faultinject

// Package faultinject proves the service's promises against its real
// processes: a private Postgres cluster, the file-backed Temporal server
// (`contractd temporal`), `contractd worker` and `contractd api`, each a
// separate OS process that the tests kill -9, stop and restart while clients
// load the API over HTTP. Afterwards the database is checked for the
// invariants in invariants_test.go.
//
// Run it with `make faults` (the full suite) or `make faults-short` (the
// short form CI runs). It needs Postgres's server binaries (initdb, pg_ctl),
// which every machine with a local Postgres has.
package faultinject

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"
	temporalclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/contractd/contractd/internal/config"
	"github.com/contractd/contractd/internal/demo"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/store"
)

// binary is the contractd executable under test, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "contractd-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultinject:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "contractd")
	// -race: the binary shares `go test -race`'s build cache, so CI compiles
	// the Temporal server once, and data races under faults crash loudly.
	build := exec.Command("go", "build", "-race", "-o", binary, "../cmd/contractd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faultinject: build contractd:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// cluster is one test's whole deployment.
type cluster struct {
	t        *testing.T
	dir      string
	pg       *postgres
	db       *sqlx.DB
	temporal *process
	worker   *process
	api      *process
	baseURL  string
	// temporalAddr is the frontend's host:port.
	temporalAddr string
}

// newCluster starts Postgres, migrates and seeds the demo tenant, then starts
// Temporal, the worker and the API, and waits until the API is ready. env
// (KEY=value) is added to every process's environment.
func newCluster(t *testing.T, env ...string) *cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "contractd-faults-")
	require.NoError(t, err)
	// Postgres runs as its own user when the tests run as root: it must be
	// able to reach its data directory.
	require.NoError(t, os.Chmod(dir, 0o755))
	c := &cluster{t: t, dir: dir}
	t.Cleanup(func() {
		for _, p := range []*process{c.api, c.worker, c.temporal} {
			if p != nil {
				p.kill()
			}
		}
		if c.db != nil {
			_ = c.db.Close()
		}
		if c.pg != nil {
			_ = c.pg.stop()
		}
		if t.Failed() {
			t.Logf("logs kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})

	c.pg = startPostgres(t, filepath.Join(dir, "pgdata"))
	ctx := context.Background()
	dbURL := c.pg.url("contracts")
	require.NoError(t, store.EnsureDatabase(ctx, dbURL))
	s, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	require.NoError(t, demo.Seed(ctx, s, time.Now()))
	s.Close()
	c.db, err = sqlx.Open("postgres", dbURL)
	require.NoError(t, err)

	// Temporal's frontend and the 14 ports after it (see TEMPORAL_DEV_PORT),
	// then the API's and the worker's.
	temporalPort := freePorts(t, 17)
	apiPort, workerPort := temporalPort+15, temporalPort+16
	common := []string{
		"DATABASE_URL=" + dbURL,
		"CONTRACTD_STATE_DIR=" + filepath.Join(dir, "state"),
		// The embedded server's own address: api and worker present its
		// write token there.
		"TEMPORAL_ADDRESS=127.0.0.1:" + strconv.Itoa(temporalPort),
		"TEMPORAL_DEV_PORT=" + strconv.Itoa(temporalPort),
		"LOG_LEVEL=warn",
	}
	common = append(common, env...)
	c.temporal = c.newProcess("temporal", []string{"TEMPORAL_UI_PORT=0"}, common)
	// The worker serves metrics and health too; a port of its own keeps it
	// off anything else on the machine (such as a `contractd dev` on :8080).
	c.worker = c.newProcess("worker", []string{"HTTP_ADDR=127.0.0.1:" + strconv.Itoa(workerPort)}, common)
	c.api = c.newProcess("api", []string{"HTTP_ADDR=127.0.0.1:" + strconv.Itoa(apiPort), "RATE_LIMIT_PER_SECOND=0"}, common)
	c.baseURL = "http://127.0.0.1:" + strconv.Itoa(apiPort)

	c.temporalAddr = fmt.Sprintf("127.0.0.1:%d", temporalPort)
	require.NoError(t, c.startTemporal())
	c.worker.start()
	require.NoError(t, c.startAPI())
	c.pauseDailySchedules(t)
	return c
}

// pauseDailySchedules pauses the Schedules the worker creates as it starts:
// the terms sweep at 00:05 UTC and the billing run at 00:30. A test running
// at that time had the day's run bill and collect its contracts while the
// scenario ran, and found captures and invoices it never made. Paused, they
// stay so: a restarted worker keeps a Schedule that exists, and a restarted
// Temporal server keeps its state.
func (c *cluster) pauseDailySchedules(t *testing.T) {
	t.Helper()
	temporal := c.temporalClient(t)
	defer temporal.Close()
	for _, id := range []string{flow.TermsScheduleID, flow.BillingScheduleID} {
		schedule := temporal.ScheduleClient().GetHandle(context.Background(), id)
		// The worker may not have made it yet: the API's readiness does not
		// wait for the worker.
		var err error
		paused := waitFor("paused schedule "+id, time.Minute, func() bool {
			err = schedule.Pause(context.Background(), temporalclient.SchedulePauseOptions{Note: "fault injection"})
			return err == nil
		})
		require.NoError(t, paused, "%v", err)
	}
}

// temporalClient dials the cluster's Temporal server with the write token
// its processes present (see app.embeddedToken); the caller closes it.
func (c *cluster) temporalClient(t *testing.T) temporalclient.Client {
	t.Helper()
	cfg := config.Config{StateDir: filepath.Join(c.dir, "state")}
	found, err := cfg.ReadUpdateKey()
	require.NoError(t, err)
	require.True(t, found, "no update key in %s", cfg.StateDir)
	temporal, err := temporalclient.Dial(temporalclient.Options{HostPort: c.temporalAddr, Namespace: config.DefaultTemporalNamespace,
		Credentials:       temporalclient.NewAPIKeyStaticCredentials(cfg.EmbeddedTemporalToken()),
		ConnectionOptions: temporalclient.ConnectionOptions{TLSDisabled: true},
		Logger:            sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	return temporal
}

// startTemporal starts the Temporal server and waits for its frontend.
func (c *cluster) startTemporal() error {
	c.temporal.start()
	return waitFor("temporal frontend", 60*time.Second, func() bool { return dialable(c.temporalAddr) })
}

// startAPI starts the api process and waits for /readyz.
func (c *cluster) startAPI() error {
	c.api.start()
	return waitFor("api /readyz", 60*time.Second, func() bool {
		resp, err := http.Get(c.baseURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (c *cluster) newProcess(name string, env, common []string) *process {
	return &process{
		name: name,
		args: []string{name},
		env:  append(append(os.Environ(), common...), env...),
		log:  filepath.Join(c.dir, name+".log"),
		t:    c.t,
	}
}

// process is one contractd subcommand running as its own OS process.
type process struct {
	t      *testing.T
	name   string
	args   []string
	env    []string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func (p *process) start() {
	p.t.Helper()
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(p.t, err)
	fmt.Fprintf(out, "\n===== start %d at %s =====\n", p.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(binary, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithTest()
	require.NoError(p.t, cmd.Start(), "start %s", p.name)
	p.cmd, p.exited, p.starts = cmd, make(chan struct{}), p.starts+1
	go func(done chan struct{}) {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}(p.exited)
}

// kill sends SIGKILL: no shutdown hooks, no draining, like a crash.
func (p *process) kill() { p.signal(syscall.SIGKILL) }

// stop asks for a graceful shutdown.
func (p *process) stop() { p.signal(syscall.SIGTERM) }

func (p *process) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// running reports whether the process is alive (it did not crash on its own).
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return p.cmd != nil
	}
}

// postgres is a private cluster, so a test can stop it without disturbing
// anything else on the machine.
type postgres struct {
	t       *testing.T
	bin     string
	dataDir string
	port    int
	asUser  []string
}

func startPostgres(t *testing.T, dataDir string) *postgres {
	t.Helper()
	bin := postgresBinDir(t)
	p := &postgres{t: t, bin: bin, dataDir: dataDir, port: freePorts(t, 1)}
	require.NoError(t, os.Mkdir(dataDir, 0o700))
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs a postgres user to own the cluster")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dataDir, uid, gid))
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", dataDir, "-U", "postgres", "-A", "trust", "--no-sync")
	require.NoError(t, p.start())
	return p
}

func postgresBinDir(t *testing.T) string {
	if path, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(path)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(found) == 0 {
		t.Skip("Postgres server binaries (pg_ctl, initdb) are not installed")
	}
	sort.Strings(found)
	return filepath.Dir(found[len(found)-1])
}

func (p *postgres) run(tool string, args ...string) {
	p.t.Helper()
	out, err := p.command(tool, args...).CombinedOutput()
	require.NoError(p.t, err, "%s: %s", tool, out)
}

func (p *postgres) command(tool string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, p.asUser...), filepath.Join(p.bin, tool)), args...)
	return exec.Command(argv[0], argv[1:]...)
}

// start runs the server until stop; fsync is off because the tests crash
// processes, not the machine.
func (p *postgres) start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=200", p.port, p.dataDir)
	out, err := p.command("pg_ctl", "-D", p.dataDir, "-o", opts, "-l", p.dataDir+"/server.log", "-w", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, out)
	}
	return nil
}

// stop shuts the server down in immediate mode: clients see their
// connections drop, as in a crash.
func (p *postgres) stop() error {
	out, err := p.command("pg_ctl", "-D", p.dataDir, "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("not running")) {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

func (p *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// freePorts finds n consecutive ports free on loopback and returns the
// first. They lie below the kernel's ephemeral range (32768 and up on
// Linux): a process the suite kills binds its ports again when restarted,
// and a port in that range may meanwhile have become the local end of some
// outgoing connection.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	const lo, hi = 20000, 32000
	for range 200 {
		base := lo + rand.IntN(hi-lo-n)
		if portsFree(base, n) {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports between %d and %d", n, lo, hi)
	return 0
}

func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

func dialable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func waitFor(what string, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// logTail is the end of a process's log, for failure messages.
func (p *process) logTail() string {
	raw, _ := os.ReadFile(p.log)
	lines := strings.Split(string(raw), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
