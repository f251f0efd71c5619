// Package config reads the service's settings from the environment. Every
// variable has a default so `contractd dev` runs with none set.
package config

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// Config is the process configuration shared by every subcommand.
type Config struct {
	// HTTPAddr is HTTP_ADDR as set, empty when unset: ListenAddr applies the
	// mode's default.
	HTTPAddr          string
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string
	TemporalDevPort   int
	TemporalUIPort    int
	StateDir          string
	LogLevel          string
	// PprofAddr serves Go's profiler when set (e.g. 127.0.0.1:6060).
	PprofAddr string
	// WorkflowCacheSize bounds the workflows a worker keeps in memory.
	WorkflowCacheSize int
	// RateLimitPerSecond is each API key's request budget; 0 turns limiting off.
	RateLimitPerSecond float64
	// AuthFailuresPerSecond is each client address's budget of failed
	// authentications; 0 turns it off.
	AuthFailuresPerSecond float64
	// TrustedProxies are the peers whose X-Forwarded-For the API believes
	// (TRUSTED_PROXIES); none by default.
	TrustedProxies []netip.Prefix
	// WebhookAllowInsecure is nil when unset: `dev` then allows http to
	// loopback, `api` and `worker` do not.
	WebhookAllowInsecure *bool
	// TemporalGzip is nil when unset: requests to Temporal are then gzipped
	// (the SDK's default), except in `dev` to the embedded server.
	TemporalGzip *bool
	// UpdateKey signs and checks the Updates the API sends to workflows
	// (CONTRACTD_UPDATE_KEY); see EnsureUpdateKey for its default.
	UpdateKey []byte
	// TemporalUIWriteActions lets the embedded Web UI of `dev` signal,
	// cancel, reset or terminate workflows; it is read-only by default.
	TemporalUIWriteActions bool
	// BillingRunWait is how long POST /api/billing/run waits for a run's
	// totals before answering 202 with a link to its progress.
	BillingRunWait time.Duration
	// AmendmentWait is how long a change request waits for its amendment
	// workflow's answer before answering 202 with the amendment to follow;
	// a contract action waits as long for its workflow, then answers 202.
	AmendmentWait time.Duration
	// BodyReadTimeout is how long after its headers a request's body must
	// have been read.
	BodyReadTimeout time.Duration
}

// Defaults documented in the README; keep the two in step.
const (
	DefaultHTTPAddr = ":8080"
	// DefaultDevHTTPAddr keeps `dev`, whose demo keys are published, off
	// every interface but loopback unless HTTP_ADDR says otherwise.
	DefaultDevHTTPAddr       = "127.0.0.1:8080"
	DefaultDatabaseURL       = "postgres://postgres@127.0.0.1:5432/contracts?sslmode=disable"
	DefaultTemporalNamespace = "default"
	DefaultTemporalTaskQueue = "contracts"
	DefaultTemporalDevPort   = 7233
	DefaultTemporalUIPort    = 8233
	DefaultStateDir          = "./.contractd"
	DefaultLogLevel          = "info"
	DefaultRateLimit         = 50
	DefaultAuthFailures      = 5
	DefaultWorkflowCacheSize = 2000
	DefaultBillingRunWait    = 5 * time.Second
	// MaxBillingRunWait keeps a held request well inside the operator
	// CLI's 60 s timeout and the idle timeouts of common proxies.
	MaxBillingRunWait = 30 * time.Second
	// DefaultAmendmentWait is about as long as Temporal itself holds one
	// wait for an Update's outcome; an amendment answers in milliseconds
	// unless the service is overloaded or a payment provider is slow.
	DefaultAmendmentWait = 30 * time.Second
	MaxAmendmentWait     = 2 * time.Minute
	// DefaultBodyReadTimeout gives a 1 MiB body, the most a request may
	// send, 30 s: about 35 KB/s.
	DefaultBodyReadTimeout = 30 * time.Second
	MaxBodyReadTimeout     = 5 * time.Minute
)

// FromEnv reads the configuration, applying defaults for unset variables.
func FromEnv() (Config, error) {
	c := Config{
		HTTPAddr:          env("HTTP_ADDR", ""),
		DatabaseURL:       env("DATABASE_URL", DefaultDatabaseURL),
		TemporalAddress:   env("TEMPORAL_ADDRESS", ""),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", DefaultTemporalNamespace),
		TemporalTaskQueue: env("TEMPORAL_TASK_QUEUE", DefaultTemporalTaskQueue),
		StateDir:          env("CONTRACTD_STATE_DIR", DefaultStateDir),
		LogLevel:          env("LOG_LEVEL", DefaultLogLevel),
		PprofAddr:         env("PPROF_ADDR", ""),
	}
	var err error
	if c.TemporalDevPort, err = envInt("TEMPORAL_DEV_PORT", DefaultTemporalDevPort, 1, maxPort-13, devPort); err != nil {
		return c, err
	}
	if c.TemporalUIPort, err = envInt("TEMPORAL_UI_PORT", DefaultTemporalUIPort, 0, maxPort, port); err != nil {
		return c, err
	}
	if c.WorkflowCacheSize, err = envInt("WORKFLOW_CACHE_SIZE", DefaultWorkflowCacheSize, 1, math.MaxInt, positive); err != nil {
		return c, err
	}
	if c.RateLimitPerSecond, err = envRate("RATE_LIMIT_PER_SECOND", DefaultRateLimit); err != nil {
		return c, err
	}
	if c.AuthFailuresPerSecond, err = envRate("AUTH_FAILURES_PER_SECOND", DefaultAuthFailures); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = trustedProxies(env("TRUSTED_PROXIES", "")); err != nil {
		return c, err
	}
	if c.WebhookAllowInsecure, err = envBool("WEBHOOK_ALLOW_INSECURE"); err != nil {
		return c, err
	}
	if c.TemporalGzip, err = envBool("TEMPORAL_GRPC_GZIP"); err != nil {
		return c, err
	}
	if key := env("CONTRACTD_UPDATE_KEY", ""); key != "" {
		if len(key) < MinUpdateKeyLength {
			return c, fmt.Errorf("CONTRACTD_UPDATE_KEY must be at least %d characters", MinUpdateKeyLength)
		}
		c.UpdateKey = []byte(key)
	}
	if c.BillingRunWait, err = envWait("BILLING_RUN_WAIT", DefaultBillingRunWait, MaxBillingRunWait); err != nil {
		return c, err
	}
	if c.AmendmentWait, err = envWait("AMENDMENT_WAIT", DefaultAmendmentWait, MaxAmendmentWait); err != nil {
		return c, err
	}
	if c.BodyReadTimeout, err = envWait("BODY_READ_TIMEOUT", DefaultBodyReadTimeout, MaxBodyReadTimeout); err != nil {
		return c, err
	}
	writes, err := envBool("TEMPORAL_UI_WRITE_ACTIONS")
	if err != nil {
		return c, err
	}
	c.TemporalUIWriteActions = writes != nil && *writes
	return c, nil
}

// ListenAddr applies the mode's default to HTTPAddr: loopback only in `dev`,
// every interface for `api` and `worker` (which run in containers).
func (c Config) ListenAddr(dev bool) string {
	switch {
	case c.HTTPAddr != "":
		return c.HTTPAddr
	case dev:
		return DefaultDevHTTPAddr
	default:
		return DefaultHTTPAddr
	}
}

// AllowInsecureWebhooks applies the mode's default to WebhookAllowInsecure.
func (c Config) AllowInsecureWebhooks(devDefault bool) bool {
	if c.WebhookAllowInsecure != nil {
		return *c.WebhookAllowInsecure
	}
	return devDefault
}

// GzipTemporal applies the default to TemporalGzip: compressing requests
// saves bandwidth to a remote server, and only costs CPU on loopback to the
// server `dev` embeds in its own process.
func (c Config) GzipTemporal(embedded bool) bool {
	if c.TemporalGzip != nil {
		return *c.TemporalGzip
	}
	return !embedded
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// envBool reads true or false; nil when unset.
func envBool(name string) (*bool, error) {
	v := env(name, "")
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fmt.Errorf("%s must be true or false, got %q", name, v)
	}
	return &b, nil
}

// envInt reads a whole number in [lo, hi]; what names it in the error.
func envInt(name string, def, lo, hi int, what string) (int, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be %s, got %q", name, what, v)
	}
	return n, nil
}

const (
	maxPort  = 65535
	port     = "a port number"
	positive = "a whole number ≥ 1"
	// The embedded server's other services use the 13 ports after it.
	devPort = "a port number up to 65522"
)

// envRate reads a rate a second: a number ≥ 0, def when unset.
func envRate(name string, def float64) (float64, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || math.IsNaN(n) {
		return 0, fmt.Errorf("%s must be a number ≥ 0, got %q", name, v)
	}
	return n, nil
}

// envWait reads a wait: a Go duration above 0 and at most max, def when unset.
func envWait(name string, def, max time.Duration) (time.Duration, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > max {
		return 0, fmt.Errorf("%s must be a duration above 0 and at most %s, such as %s, got %q", name, max, def, v)
	}
	return d, nil
}
