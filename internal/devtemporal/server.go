// Package devtemporal runs a single-process Temporal server backed by a SQLite
// file, plus the Temporal Web UI, for the `contractd dev` command. It exists so a
// newcomer needs nothing but Go and Postgres to run the whole service; production
// deployments point `api` and `worker` at a real Temporal cluster instead.
package devtemporal

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

const loopback = "127.0.0.1"

// Options configures the embedded server.
type Options struct {
	// StateDir holds the SQLite database; workflows survive a restart of the process.
	StateDir string
	// Namespace is registered at start (with SearchAttributes) if it does not exist yet.
	Namespace        string
	SearchAttributes map[string]enumspb.IndexedValueType
	// FrontendPort is the gRPC port clients dial; the server's other
	// services listen on FrontendPort+1..+4 and +10..+14.
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 disables it.
	UIPort int
	// UIWriteActions lets the UI signal, cancel, reset or terminate
	// workflows. Off, it is read-only: operators inspect, they do not act.
	// (Updates a workflow did not get from the API are refused either way.)
	UIWriteActions bool
	// WriteToken, when set, is what a caller of the frontend must present
	// (as an API key: "authorization: Bearer <token>") to do more than read
	// (see writerClaims). Empty, anyone who reaches the port may write.
	WriteToken string
	// LogLevel of the server's own (zap) logger: "warn" keeps the dev console readable.
	LogLevel string
}

// Server is a running embedded Temporal server.
type Server struct {
	temporal temporal.Server
	ui       *uiserver.Server
	logger   stoppingLogger
	hostPort string
	uiAddr   string
}

// Start boots the server and, when configured, the UI. It returns once the
// frontend accepts connections.
func Start(opts Options) (*Server, error) {
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	dbPath := filepath.Join(opts.StateDir, "temporal.db")
	// synchronous=NORMAL in WAL mode survives a crash of this process (not of
	// the machine), which is the durability a dev server needs, at a fraction
	// of the fsyncs. One connection: with several, concurrent writers fail
	// with SQLITE_BUSY_SNAPSHOT under load.
	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      dbPath,
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "NORMAL"},
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
			return nil, fmt.Errorf("set up temporal schema: %w", err)
		}
	}
	cfg, err := serverConfig(opts, sqlCfg)
	if err != nil {
		return nil, err
	}
	if cfg.Global.TLS, err = internodeTLS(); err != nil {
		return nil, err
	}
	ns, err := sqliteschema.NewNamespaceConfig(cfg.ClusterMetadata.CurrentClusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("create namespace %q: %w", opts.Namespace, err)
	}

	level := opts.LogLevel
	if level == "" {
		level = "warn"
	}
	logger := newStoppingLogger(log.NewZapLogger(log.BuildZapLogger(log.Config{Level: level, Format: "json"})))
	authorizer, claimMapper := frontendAuthorization(opts.WriteToken)
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.Services),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithCustomMetricsHandler(metrics.NoopMetricsHandler),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return nil, fmt.Errorf("new temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{temporal: srv, logger: logger, hostPort: fmt.Sprintf("%s:%d", loopback, opts.FrontendPort)}
	if err := waitForPort(s.hostPort, 30*time.Second); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	if opts.UIPort > 0 {
		s.uiAddr = fmt.Sprintf("%s:%d", loopback, opts.UIPort)
		s.ui = uiserver.NewServer(uioptions.WithConfigProvider(uiConfig(opts, s.hostPort)))
		go func() { _ = s.ui.Start() }()
	}
	return s, nil
}

// workflowCacheEntries bounds the server's cache of workflows' state
// (default 128,000 entries, kept an hour): with the default, `dev` holding
// 100,000 open amendments (REVIEW or SCHEDULED, made in 21 minutes) grew to
// 5.7 GB resident. A bound by size (history.cacheSizeBasedLimit) did not
// hold it: the server's estimate of a workflow's size is well under what it
// takes. A workflow not in the cache is read back from the SQLite file when
// it next does something.
const workflowCacheEntries = 4096

// dynamicConfig is the embedded server's dynamic configuration: its
// workflow cache has a bound. Search attributes are read from the server's
// caches, not from the database each time a workflow sets one (as a
// development server may, so that one registered is usable at once): the
// namespace is created with contractd's, and the worker waits after
// registering one it lacks until every service's namespace cache has it.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): []dynamicconfig.ConstrainedValue{{Value: workflowCacheEntries}},
	}
}

// uiConfig is the Web UI's configuration: on loopback, read-only unless
// opts.UIWriteActions says otherwise.
func uiConfig(opts Options, hostPort string) *uiconfig.Config {
	return &uiconfig.Config{
		TemporalGRPCAddress: hostPort,
		Host:                loopback,
		Port:                opts.UIPort,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		HideLogs:            true,
		DisableNewsFetch:    true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		DisableWriteActions: !opts.UIWriteActions,
	}
}

// HostPort is the frontend address for SDK clients.
func (s *Server) HostPort() string { return s.hostPort }

// UIAddress is the Web UI's http address, or "" when the UI is off.
func (s *Server) UIAddress() string {
	if s.uiAddr == "" {
		return ""
	}
	return "http://" + s.uiAddr
}

// Quiet silences the server's log from now on, for a process about to shut
// down: its workers' polls, cancelled as they stop, are logged by the server
// as errors with stack traces before Stop begins.
func (s *Server) Quiet() { s.logger.stop() }

// Stop shuts down the UI and the server, quietly: what the server's services
// log about each other while they stop is not worth a developer's attention.
func (s *Server) Stop() error {
	s.Quiet()
	if s.ui != nil {
		s.ui.Stop()
	}
	return s.temporal.Stop()
}

func serverConfig(opts Options, sqlCfg *config.SQL) (*config.Config, error) {
	const clusterName = "active"
	hostPort := fmt.Sprintf("%s:%d", loopback, opts.FrontendPort)
	// Every port derives from the frontend's, so a restarted server has the
	// same membership addresses as before: with fresh ones it would wait for
	// the previous process's entries in the SQLite file to expire (about a
	// minute and a half of "Not enough hosts to serve the request").
	services := map[string]config.Service{}
	// The internal frontend serves the server's own system workers
	// (schedules, batch operations), which the server authorizes itself:
	// the public frontend may then refuse writes to everyone else.
	for i, name := range []string{"frontend", "history", "matching", "worker", "internal-frontend"} {
		grpcPort := opts.FrontendPort
		if name != "frontend" {
			grpcPort = opts.FrontendPort + i
		}
		membershipPort := opts.FrontendPort + 10 + i
		services[name] = config.Service{RPC: config.RPC{GRPCPort: grpcPort, MembershipPort: membershipPort, BindOnIP: loopback}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: loopback},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
		},
		ClusterMetadata: &cluster.Config{
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: hostPort},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services:            services,
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		// PublicClient stays empty: the server's own system workers find the
		// internal frontend through membership.
	}, nil
}

func waitForPort(hostPort string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", hostPort, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal frontend %s not reachable after %s: %w", hostPort, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
