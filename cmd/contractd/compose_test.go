package main

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/contractd/contractd/app"
	"github.com/contractd/contractd/worker"
)

// There is no Docker engine where the tests run, so the stack is checked
// for what can go wrong without one: services wired to each other and to
// the binary's commands, health checks behind every dependency condition,
// and shutdown grace long enough for the drains in the code.

type composeService struct {
	Image           string            `json:"image"`
	Command         []string          `json:"command"`
	Environment     map[string]string `json:"environment"`
	Restart         string            `json:"restart"`
	Ports           []string          `json:"ports"`
	Volumes         []string          `json:"volumes"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Healthcheck     *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
}

var composeVariable = regexp.MustCompile(`\$\{\w+:-([^}]*)\}`)

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	raw, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	// Compose substitutes ${NAME:-default}; the defaults are what a plain
	// `docker compose up` gets.
	raw = composeVariable.ReplaceAll(raw, []byte("$1"))
	// The YAML library resolves the anchors and merge keys the file uses.
	doc, err := yaml.YAMLToJSON(raw)
	require.NoError(t, err)
	var compose struct {
		Services map[string]composeService `json:"services"`
	}
	require.NoError(t, json.Unmarshal(doc, &compose))
	return compose.Services
}

func TestComposeRunsTheWholeStack(t *testing.T) {
	services := loadCompose(t)
	for _, name := range []string{"postgres", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui", "migrate", "worker", "api"} {
		assert.Contains(t, services, name)
	}

	for name, s := range services {
		for dep, d := range s.DependsOn {
			target, ok := services[dep]
			require.True(t, ok, "%s depends on unknown service %s", name, dep)
			switch d.Condition {
			case "service_healthy":
				assert.NotNil(t, target.Healthcheck, "%s waits for %s to be healthy, which has no health check", name, dep)
			case "service_completed_successfully":
				assert.Equal(t, "no", target.Restart, "%s waits for one-shot %s, which must not restart", name, dep)
			default:
				t.Errorf("%s depends on %s with condition %q: start order only, not readiness", name, dep, d.Condition)
			}
		}
		if s.Restart != "no" {
			assert.NotNil(t, s.Healthcheck, "long-running service %s has no health check", name)
		}
	}
	assert.Empty(t, dependencyCycle(services))
}

// dependencyCycle returns a service that depends on itself through others, if any.
func dependencyCycle(services map[string]composeService) string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(string) bool
	visit = func(name string) bool {
		switch state[name] {
		case visiting:
			return true
		case done:
			return false
		}
		state[name] = visiting
		for dep := range services[name].DependsOn {
			if visit(dep) {
				return true
			}
		}
		state[name] = done
		return false
	}
	for name := range services {
		if visit(name) {
			return name
		}
	}
	return ""
}

func TestComposeRunsContractdCommands(t *testing.T) {
	services := loadCompose(t)
	commands := map[string][]string{"migrate": {"migrate", "up"}, "worker": {"worker"}, "api": {"api"}}
	for name, command := range commands {
		s := services[name]
		assert.Equal(t, command, s.Command, name)
		assert.Contains(t, usage, "\n  "+command[0]+" ", "%s runs a command the binary does not list", name)

		db, err := url.Parse(s.Environment["DATABASE_URL"])
		require.NoError(t, err, name)
		assert.Contains(t, services, db.Hostname(), "%s's DATABASE_URL names no service", name)
		host, _, _ := strings.Cut(s.Environment["TEMPORAL_ADDRESS"], ":")
		assert.Contains(t, services, host, "%s's TEMPORAL_ADDRESS names no service", name)
		assert.Equal(t, services["migrate"].Image, s.Image, "%s runs another image than migrate", name)
	}

	assert.Equal(t, "service_completed_successfully", services["api"].DependsOn["migrate"].Condition)
	assert.Equal(t, "service_completed_successfully", services["worker"].DependsOn["migrate"].Condition)
	assert.Contains(t, services["api"].Healthcheck.Test, "http://127.0.0.1:8080/readyz")
	assert.Contains(t, services["worker"].Healthcheck.Test, "http://127.0.0.1:8080/healthz")

	for _, name := range []string{"api", "worker"} {
		grace, err := time.ParseDuration(services[name].StopGracePeriod)
		require.NoError(t, err, name)
		assert.Greater(t, grace, max(app.DrainTimeout, worker.StopTimeout), "%s is killed before it has drained", name)
	}
}

func TestDockerfileBuildsANonRootImage(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	dockerfile := string(raw)
	stages := regexp.MustCompile(`(?m)^FROM `).Split(dockerfile, -1)
	require.Len(t, stages, 3, "a build stage and a runtime stage")
	assert.Contains(t, stages[1], "--mount=type=cache", "the builder caches modules and builds")
	assert.Contains(t, stages[1], "go build")
	assert.Contains(t, stages[1], "./cmd/contractd")

	runtime := stages[2]
	user := regexp.MustCompile(`(?m)^USER (\d+)`).FindStringSubmatch(runtime)
	require.NotNil(t, user, "the runtime stage sets a numeric USER")
	assert.NotEqual(t, "0", user[1])
	assert.Contains(t, runtime, `ENTRYPOINT ["contractd"]`)
	assert.True(t, slices.ContainsFunc(strings.Split(runtime, "\n"), func(l string) bool {
		return strings.HasPrefix(l, "COPY --from=build ")
	}), "the runtime stage copies only the built binary")
}

// Temporal's frontend and UI authenticate no one: they are published on the
// host's loopback only, the UI is read-only, and the api and worker share
// the key that signs Updates (through the state volume).
func TestComposeKeepsTemporalToOperatorsOnTheHost(t *testing.T) {
	services := loadCompose(t)
	for _, name := range []string{"temporal", "temporal-ui"} {
		require.NotEmpty(t, services[name].Ports, name)
		for _, p := range services[name].Ports {
			assert.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s publishes %s beyond loopback", name, p)
		}
	}
	assert.Equal(t, "true", services["temporal-ui"].Environment["TEMPORAL_DISABLE_WRITE_ACTIONS"])
	api, wrk := services["api"], services["worker"]
	assert.Equal(t, api.Environment["CONTRACTD_STATE_DIR"], wrk.Environment["CONTRACTD_STATE_DIR"])
	assert.NotEmpty(t, api.Environment["CONTRACTD_STATE_DIR"])
	assert.Equal(t, api.Volumes, wrk.Volumes)
	assert.Contains(t, api.Volumes, "contractd-state:"+api.Environment["CONTRACTD_STATE_DIR"])
}
