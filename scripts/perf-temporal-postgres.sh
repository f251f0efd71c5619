#!/usr/bin/env bash
# perf-temporal-postgres.sh: the README's Performance runs against a
# production-like stack instead of `contractd dev`: a standalone Temporal
# server (go.temporal.io/server/cmd/server, the version go.mod pins) whose
# persistence and visibility are in Postgres, set up with the server's own
# temporal-sql-tool, and contractd's `api` and `worker` as separate processes.
# No Docker and no downloaded binaries: everything is built with `go build`
# from the module cache (tools/tools.go keeps the server's dependencies in
# go.sum).
#
#   scripts/perf-temporal-postgres.sh            # build, reset, start, measure, stop
#   SCALE=0 scripts/perf-temporal-postgres.sh    # skip the 100,000-contract scale runs
#   SCALE_OUT=1 scripts/perf-temporal-postgres.sh  # two APIs, one then two workers, one killed -9
#   HOLD=1 scripts/perf-temporal-postgres.sh       # start the stack, print loadgen's command, wait for Ctrl-C
#   PPROF=1 ...                                    # also serve Go's profiler: API on 18095, worker on 18096
#   ROUNDS=12 ...                                  # the floor comparisons in 12 rounds of the same size, not 6
#
# Every run starts from empty databases (temporal_perf, temporal_perf_visibility,
# contracts_perf: dropped and recreated), so it can be run again and again; it
# never touches the `contracts` database or the ports of `contractd dev`.
# Background processes are stopped on exit, however the script ends.
#
# Needs: Go, a Postgres 12+ it may create databases in (PG* variables below),
# psql, curl and jq. The first build of the Temporal server takes minutes.
#
# Ports (loopback only): Temporal frontend 17233 (HTTP 17243), history 17234,
# matching 17235, worker 17239, membership 17263-17269, server metrics 17290;
# contractd API 18080, contractd worker metrics/health 18090; with SCALE_OUT=1
# also a second API on 18081 and a second worker on 18091.
#
# Output: progress on stderr; each run's table and a README-style summary on
# stdout. Logs, the JSON reports and the binaries stay in $PERF_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PERF_DIR=${PERF_DIR:-$ROOT/.contractd/perf}
BIN=$PERF_DIR/bin
LOGS=$PERF_DIR/logs
RUN=$PERF_DIR/run
REPORTS=$PERF_DIR/reports

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
PGPASSWORD=${PGPASSWORD:-}
export PGHOST PGPORT PGUSER PGPASSWORD

TEMPORAL_DB=${TEMPORAL_DB:-temporal_perf}
VISIBILITY_DB=${VISIBILITY_DB:-temporal_perf_visibility}
APP_DB=${APP_DB:-contracts_perf}
if [[ -n $PGPASSWORD ]]; then
	APP_DB_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$APP_DB?sslmode=disable"
else
	APP_DB_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$APP_DB?sslmode=disable"
fi

NAMESPACE=${NAMESPACE:-default}
TEMPORAL_ADDRESS=127.0.0.1:17233
API_ADDR=127.0.0.1:18080
WORKER_ADDR=127.0.0.1:18090
API_URL=http://$API_ADDR
TENANT_PREFIX=PERF
SCALE=${SCALE:-1}
SCALE_OUT=${SCALE_OUT:-0}
HOLD=${HOLD:-0}
# ROUNDS: how many rounds the floor comparisons alternate in. Each round keeps
# its size (50 changes at one client, about 167 at 20), so more rounds take
# longer and give a median less moved by one slow round.
ROUNDS=${ROUNDS:-6}
API2_ADDR=127.0.0.1:18081
WORKER2_ADDR=127.0.0.1:18091

SERVER_CONFIG=$ROOT/scripts/temporal-postgres.yaml
DYNAMIC_CONFIG=$ROOT/scripts/temporal-postgres-dynamicconfig.yaml
PORTS=(17233 17234 17235 17239 17243 17263 17264 17265 17269 17290 18080 18090)
if [[ $SCALE_OUT == 1 ]]; then
	PORTS+=(18081 18091)
fi

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
# Bounded so that the request counts below stay what was asked: 100 rounds
# are 5,000 and 16,666 changes, and a longer number would wrap in bash.
[[ $ROUNDS =~ ^[1-9][0-9]{0,2}$ && $ROUNDS -le 100 ]] || die "ROUNDS must be a whole number of rounds from 1 to 100: $ROUNDS"

for cmd in go psql curl jq; do
	command -v "$cmd" >/dev/null || die "$cmd is required"
done
mkdir -p "$BIN" "$LOGS" "$RUN" "$REPORTS"

# ---------------------------------------------------------------- processes

PIDS=()     # started by this run, in start order
NAMES=()

# stop_pid PID NAME SECONDS: SIGTERM, then SIGKILL after SECONDS.
stop_pid() {
	local pid=$1 name=$2 grace=$3 i
	kill -0 "$pid" 2>/dev/null || return 0
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name did not stop in ${grace}s: killing pid $pid"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}" "${NAMES[i]}" 45
		rm -f "$RUN/${NAMES[i]}.pid"
	done
	if ((rc != 0)); then
		log "failed (exit $rc); logs in $LOGS"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: run in the background, logging to $LOGS/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$LOGS/$name.log" 2>&1 &
	PIDS+=("$!")
	NAMES+=("$name")
	echo "$!" >"$RUN/$name.pid"
	log "started $name (pid $!, log $LOGS/$name.log)"
}

# A previous run killed without its trap (kill -9) may have left processes:
# stop those this script started (pid file, binary under $BIN), nothing else.
for pidfile in "$RUN"/*.pid; do
	[[ -e $pidfile ]] || continue
	pid=$(<"$pidfile")
	if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$BIN"/* ]]; then
		stop_pid "$pid" "stale $(basename "$pidfile" .pid)" 45
	fi
	rm -f "$pidfile"
done

for port in "${PORTS[@]}"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "port $port is in use; this script needs ${PORTS[*]}"
	fi
done

# wait_until SECONDS WHAT PID COMMAND...: poll COMMAND while PID lives.
wait_until() {
	local timeout=$1 what=$2 pid=$3 start=$SECONDS
	shift 3
	until "$@" >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || die "$what: process exited; see its log in $LOGS"
		((SECONDS - start < timeout)) || die "$what: not ready after ${timeout}s"
		sleep 1
	done
	log "$what is ready ($((SECONDS - start))s)"
}

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

# -------------------------------------------------------------------- build

T0=$SECONDS
build() {
	local out=$1 pkg=$2 t=$SECONDS
	log "go build -o $BIN/$out $pkg"
	go build -o "$BIN/$out" "$pkg"
	log "  built $out in $((SECONDS - t))s"
}
# The server is large: its first build takes minutes (11.5 min on a loaded
# 2-core machine); later builds come from the build cache.
build temporal-server go.temporal.io/server/cmd/server
build temporal-sql-tool go.temporal.io/server/cmd/tools/sql
build contractd ./cmd/contractd
build loadgen ./cmd/loadgen
build perfsetup ./scripts/perfsetup
BUILD_SECONDS=$((SECONDS - T0))

# ---------------------------------------------------------------- databases

sqltool() {
	"$BIN/temporal-sql-tool" --plugin postgres12 --ep "$PGHOST" -p "$PGPORT" -u "$PGUSER" \
		${PGPASSWORD:+--pw "$PGPASSWORD"} "$@"
}

T1=$SECONDS
: >"$LOGS/schema.log"
pg_isready -q -h "$PGHOST" -p "$PGPORT" || die "Postgres at $PGHOST:$PGPORT does not answer"
db_exists() {
	[[ $(psql -d postgres -XAtqc "SELECT 1 FROM pg_database WHERE datname = '$1'") == 1 ]]
}
for db in "$TEMPORAL_DB" "$VISIBILITY_DB"; do
	if db_exists "$db"; then
		log "dropping database $db"
		sqltool --db "$db" drop-database --force >>"$LOGS/schema.log" 2>&1
	fi
	log "creating database $db"
	sqltool --db "$db" create-database >>"$LOGS/schema.log" 2>&1
done
log "temporal schema: setup-schema -v 0.0, update-schema --schema-name postgresql/v12/temporal"
sqltool --db "$TEMPORAL_DB" setup-schema -v 0.0 >>"$LOGS/schema.log" 2>&1
sqltool --db "$TEMPORAL_DB" update-schema --schema-name postgresql/v12/temporal >>"$LOGS/schema.log" 2>&1
log "visibility schema: setup-schema -v 0.0, update-schema --schema-name postgresql/v12/visibility"
sqltool --db "$VISIBILITY_DB" setup-schema -v 0.0 >>"$LOGS/schema.log" 2>&1
sqltool --db "$VISIBILITY_DB" update-schema --schema-name postgresql/v12/visibility >>"$LOGS/schema.log" 2>&1

log "resetting database $APP_DB"
psql -d postgres -XqAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $APP_DB WITH (FORCE)"
APP_ENV=(
	DATABASE_URL="$APP_DB_URL"
	TEMPORAL_ADDRESS="$TEMPORAL_ADDRESS"
	TEMPORAL_NAMESPACE="$NAMESPACE"
	RATE_LIMIT_PER_SECOND=0 # load tests exceed the per-key limit
	CONTRACTD_STATE_DIR="$PERF_DIR/state"
)
env "${APP_ENV[@]}" "$BIN/contractd" migrate up >"$LOGS/migrate.log"
log "contractd migrations applied ($(grep -c applied "$LOGS/migrate.log") files)"
DB_SECONDS=$((SECONDS - T1))

# ------------------------------------------------------------ Temporal server

T2=$SECONDS
export TEMPORAL_PERF_PG_HOST=$PGHOST TEMPORAL_PERF_PG_PORT=$PGPORT TEMPORAL_PERF_PG_USER=$PGUSER \
	TEMPORAL_PERF_PG_PASSWORD=$PGPASSWORD TEMPORAL_PERF_DB=$TEMPORAL_DB \
	TEMPORAL_PERF_VISIBILITY_DB=$VISIBILITY_DB TEMPORAL_PERF_DYNAMIC_CONFIG=$DYNAMIC_CONFIG
start temporal "$BIN/temporal-server" --config-file "$SERVER_CONFIG" --allow-no-auth start
TEMPORAL_PID=$!
wait_until 180 "Temporal frontend $TEMPORAL_ADDRESS" "$TEMPORAL_PID" port_open "$TEMPORAL_ADDRESS"
"$BIN/perfsetup" namespace -address "$TEMPORAL_ADDRESS" -namespace "$NAMESPACE" -retention 720h >&2
SERVER_SECONDS=$((SECONDS - T2))

# ------------------------------------------------------------- contractd

# pprof_addr NAME PORT: where the first API or worker serves Go's profiler
# with PPROF=1 (empty, off, otherwise and for the second of each).
pprof_addr() {
	if [[ ${PPROF:-0} == 1 && $1 != *2 ]]; then
		echo "127.0.0.1:$2"
	fi
}

# start_worker NAME ADDR / start_api NAME ADDR: one contractd process, ready
# when it returns; its pid is in $!.
start_worker() {
	start "$1" env "${APP_ENV[@]}" HTTP_ADDR="$2" PPROF_ADDR="$(pprof_addr "$1" 18096)" "$BIN/contractd" worker
	wait_until 120 "contractd $1" "$!" curl -fsS "http://$2/healthz"
}
start_api() {
	start "$1" env "${APP_ENV[@]}" HTTP_ADDR="$2" PPROF_ADDR="$(pprof_addr "$1" 18095)" "$BIN/contractd" api
	wait_until 120 "contractd $1" "$!" curl -fsS "http://$2/readyz"
}

T3=$SECONDS
start_worker worker "$WORKER_ADDR"
WORKER_PID=$!
start_api api "$API_ADDR"
API_PID=$!
LOADGEN_URLS=$API_URL
if [[ $SCALE_OUT == 1 ]]; then
	# Both APIs take the load in turn (loadgen -url a,b), as behind a load
	# balancer; the second worker starts only once one worker has been measured.
	start_api api2 "$API2_ADDR"
	API2_PID=$!
	LOADGEN_URLS=$API_URL,http://$API2_ADDR
fi

# A tenant created the way an operator would, with the demo catalog loaded
# through the API (PUT /api/catalog, operator key).
env "${APP_ENV[@]}" "$BIN/contractd" tenant create --prefix "$TENANT_PREFIX" --name "Perf Subscriptions Ltd" >"$RUN/tenant.json"
SUBMITTER_KEY=$(jq -r .keys.submitter "$RUN/tenant.json")
APPROVER_KEY=$(jq -r .keys.approver "$RUN/tenant.json")
OPERATOR_KEY=$(jq -r .keys.operator "$RUN/tenant.json")
"$BIN/perfsetup" catalog >"$RUN/catalog.json"
curl -fsS -o /dev/null -X PUT "$API_URL/api/catalog" -H "Authorization: Bearer $OPERATOR_KEY" \
	-H 'Content-Type: application/json' --data-binary "@$RUN/catalog.json"
log "tenant $TENANT_PREFIX created, demo catalog loaded"
APP_SECONDS=$((SECONDS - T3))

# -------------------------------------------------------------------- runs

LOADGEN=("$BIN/loadgen" -url "$LOADGEN_URLS" -submitter-key "$SUBMITTER_KEY" -approver-key "$APPROVER_KEY"
	-prefix "$TENANT_PREFIX" -temporal "$TEMPORAL_ADDRESS" -namespace "$NAMESPACE" -database-url "$APP_DB_URL"
	-temporal-gzip) # api and worker gzip their requests to Temporal, as in production by default

# print_report FILE: the run's table, as loadgen prints it, from its JSON.
print_report() {
	jq -r '"loadgen: \(.concurrency) clients, \(.requests) requests, \(.elapsed) (\(.machine))\n"' "$1"
	jq -r '
		def r1: (. * 10 | round) as $n | "\($n / 10 | floor).\($n % 10)";
		(["kind", "count", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "vs floor req/s", "vs floor p50"] | @tsv),
		(.kinds[] | [.kind, .count, .errors, (.throughputPerSecond | r1), (.p50Ms | r1), (.p95Ms | r1), (.p99Ms | r1),
			(if .throughputVsFloor then "\(.throughputVsFloor * 100 | round)%" else "" end),
			(if .p50VsFloor then "\(.p50VsFloor | r1)×" else "" end)] | @tsv)' "$1" |
		column -t -s $'\t' -R 2,3,4,5,6,7,8,9
	jq -r 'select(.rounds) | "\nvs floor by round (throughput, p50; the table shows their medians):",
		(.rounds[] | .round as $r | .kinds[] | select(.kind != "floor") |
			"  round \($r) \(.kind): \(.throughputVsFloor * 100 | round)%, \(.p50VsFloor * 100 | round / 100)×")' "$1"
	echo
	echo "answers by status:"
	jq -r '.statuses[] | "  \(.status) \(.count)"' "$1"
}

RUN_NO=0
declare -A RUN_TIME RUN_LOAD
# measure NAME LOADGEN-FLAGS...: one loadgen run, reported as JSON in $REPORTS/NAME.json.
measure() {
	local name=$1 t=$SECONDS
	shift
	RUN_NO=$((RUN_NO + 1))
	RUN_LOAD[$name]=$(uptime | sed 's/.*load average: //')
	echo
	echo "## run $RUN_NO ($name): go run ./cmd/loadgen $*"
	echo "load average before: ${RUN_LOAD[$name]}"
	"${LOADGEN[@]}" "$@" -json >"$REPORTS/$name.json" 2> >(tee "$LOGS/loadgen-$name.log" | grep -v '^  [0-9]*/[0-9]* requests$' >&2)
	RUN_TIME[$name]=$((SECONDS - t))
	echo "load average after:  $(uptime | sed 's/.*load average: //'), run took ${RUN_TIME[$name]}s"
	echo
	print_report "$REPORTS/$name.json"
}

# --------------------------------------------------------------- scale out

# SCALE_OUT=1: the default mode's 20-client immediate-change load, spread over
# two API processes, measured with one worker and then with two; then the same
# load with two workers where one is killed -9 halfway, and the fault suite's
# invariants checked once what it left behind has settled.
SCALE_OUT_LOAD=(-concurrency 20 -requests 1000 -contracts 40 -mix immediate=1)

app_sql() { psql -d "$APP_DB" -XAtc "$1"; }
rss_mb() { ps -o rss= -p "$1" | awk '{printf "%.0f", $1 / 1024}'; }

scale_out() {
	measure scaleout-1-worker "${SCALE_OUT_LOAD[@]}" -floor
	start_worker worker2 "$WORKER2_ADDR"
	WORKER2_PID=$!
	measure scaleout-2-workers "${SCALE_OUT_LOAD[@]}" -floor
	kill_run
	scale_out_summary
}

# kill_run: the load with two workers, worker2 killed -9 halfway through.
kill_run() {
	local half since
	# Halfway: half the time the two workers took for the same requests, plus
	# the few seconds loadgen spends creating its contracts first.
	half=$(jq -r '.kinds[] | select(.kind == "immediate") | .count / .throughputPerSecond / 2 + 2 | ceil' \
		"$REPORTS/scaleout-2-workers.json")
	since=$(app_sql "SELECT now()")
	rm -f "$RUN/killed"
	(
		sleep "$half"
		log "kill -9 worker2 (pid $WORKER2_PID), ${half}s into the run"
		kill -KILL "$WORKER2_PID" && date -u +%T >"$RUN/killed"
	) &
	local killer=$!
	measure scaleout-kill-9 "${SCALE_OUT_LOAD[@]}"
	# A kill that would come after the load has finished proves nothing:
	# call it off and say so.
	if [[ -e $RUN/killed ]]; then
		KILLED_AT="$(<"$RUN/killed") UTC, during the load"
		wait "$WORKER2_PID" 2>/dev/null || true # reap it, so the exit trap does not wait for it
	else
		kill "$killer" 2>/dev/null || true
		KILLED_AT="never: the load finished before ${half}s"
	fi
	wait "$killer" 2>/dev/null || true

	# Temporal gives the dead worker's work to the live one only when it times
	# out (its sticky workflow tasks, its activities' start-to-close), so the
	# amendments in flight settle some seconds after the load has finished.
	local t=$SECONDS
	while (($(app_sql "SELECT count(*) FROM amendments WHERE created_at >= '$since' AND status IN ('PENDING', 'REVIEW', 'SCHEDULED')") > 0)); do
		((SECONDS - t < 300)) || break
		sleep 2
	done
	SETTLE_SECONDS=$((SECONDS - t))

	# Nothing lost: every change answered 200 is APPLIED (the API answers 200
	# only once it is), and no amendment of the run is left open.
	OK_ANSWERS=$(jq '[.statuses[] | select(.status == "200") | .count] | add // 0' "$REPORTS/scaleout-kill-9.json")
	APPLIED=$(app_sql "SELECT count(*) FROM amendments WHERE created_at >= '$since' AND status = 'APPLIED'")
	RUN_AMENDMENTS=$(app_sql "SELECT coalesce(string_agg(status || ' ' || n, ', '), 'none')
		FROM (SELECT status, count(*) AS n FROM amendments WHERE created_at >= '$since' GROUP BY status ORDER BY status) s")
	# Applied once and everything else: the fault suite's invariants, over the
	# whole database and every amendment's workflow.
	if "$BIN/perfsetup" invariants -database-url "$APP_DB_URL" -address "$TEMPORAL_ADDRESS" \
		-namespace "$NAMESPACE" -settle 60s >"$REPORTS/invariants.txt" 2>&1; then
		INVARIANTS="hold"
	else
		INVARIANTS="BROKEN"
	fi
	cat "$REPORTS/invariants.txt"
}

# scale_row NAME TITLE: one line of the scale-out table.
scale_row() {
	jq -r --arg title "$2" '
		def r1: (. * 10 | round) as $n | "\($n / 10 | floor).\($n % 10)";
		(.kinds[] | select(.kind == "immediate")) as $k | ([.kinds[] | select(.kind == "floor")] | first) as $f |
		"| \($title) | \($k.throughputPerSecond | r1) | \($k.p50Ms | r1) | \($k.p99Ms | r1) | \($k.errors) | \(
			if $f then "\($f.throughputPerSecond | r1) req/s, p50 \($f.p50Ms | r1) ms" else "" end) |"' "$REPORTS/$1.json"
}

# applied_by NAME: the amendments a worker applied, counted in its log, to show
# that the second worker took its share.
applied_by() { grep -c '"msg":"amendment applied"' "$LOGS/$1.log" || true; }

scale_out_summary() {
	local lost=no
	((APPLIED >= OK_ANSWERS)) || lost="YES: $((OK_ANSWERS - APPLIED)) answered 200 but not APPLIED"
	echo
	echo "## scale out (README Performance table format)"
	echo
	echo "Two contractd api processes (loadgen -url round robin), one Temporal $("$BIN/temporal-server" --version | awk '{print $NF}') on Postgres, one app database; $(nproc) CPUs."
	echo "Each run: ${SCALE_OUT_LOAD[*]}."
	echo
	echo "| run | req/s | p50 ms | p99 ms | errors | floor in the same run |"
	echo "|---|---|---|---|---|---|"
	scale_row scaleout-1-worker "1 worker"
	scale_row scaleout-2-workers "2 workers"
	scale_row scaleout-kill-9 "2 workers, one killed -9 halfway"
	echo
	echo "Kill run: worker2 killed at $KILLED_AT; answers $(jq -r '[.statuses[] | "\(.count) × \(.status)"] | join(", ")' "$REPORTS/scaleout-kill-9.json");"
	echo "its amendments ${SETTLE_SECONDS}s after the load: $RUN_AMENDMENTS; answered 200 but not applied (lost): $lost."
	echo "Amendments applied, by the workers' logs (all runs): worker $(applied_by worker), worker2 $(applied_by worker2) (until killed)."
	echo "Invariants (perfsetup invariants: the fault suite's checker, Postgres and every amendment's workflow): $INVARIANTS."
	echo "Load average before each run (shared machine):"
	for name in scaleout-1-worker scaleout-2-workers scaleout-kill-9; do
		echo "  $name: ${RUN_LOAD[$name]} (run took ${RUN_TIME[$name]}s)"
	done
	echo "Resident memory at the end (ps -o rss): Temporal server $(rss_mb "$TEMPORAL_PID") MB, worker $(rss_mb "$WORKER_PID") MB, api $(rss_mb "$API_PID") MB, api2 $(rss_mb "$API2_PID") MB."
	log "done; reports in $REPORTS, logs in $LOGS"
}

T4=$SECONDS
echo "# contractd on Temporal $("$BIN/temporal-server" --version | awk '{print $NF}') with Postgres persistence and visibility"
echo "host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); Postgres: $(psql -d postgres -XAtc 'SHOW server_version')"
echo "started $(date -u +%FT%TZ); build ${BUILD_SECONDS}s, databases ${DB_SECONDS}s, Temporal up ${SERVER_SECONDS}s, contractd up ${APP_SECONDS}s"

if [[ $SCALE_OUT == 1 ]]; then
	scale_out
	exit 0
fi

if [[ $HOLD == 1 ]]; then
	# For measurements of one's own (scripts/cpu-per-op.sh, a profiler on
	# PPROF_ADDR): the stack stays up until this script is interrupted.
	printf '%q ' "${LOADGEN[@]}" >"$RUN/loadgen.cmd"
	echo "stack up; loadgen against it (also in $RUN/loadgen.cmd):"
	cat "$RUN/loadgen.cmd"
	echo
	log "holding the stack until interrupted (Ctrl-C, or SIGTERM)"
	trap 'exit 0' INT TERM # an asked-for stop, not a failure; the exit trap stops the stack
	while true; do
		sleep 3600 &
		wait $! # interruptible, unlike sleep in the foreground
	done
fi

measure immediate-c1 -concurrency 1 -requests $((ROUNDS * 50)) -mix immediate=1 -floor -rounds "$ROUNDS"
measure immediate-c20 -concurrency 20 -requests $((ROUNDS * 1000 / 6)) -contracts 40 -mix immediate=1 -floor -rounds "$ROUNDS"
measure preview-review -concurrency 1 -requests 300 -mix preview=1,review=1
if [[ $SCALE == 1 ]]; then
	# scale: 100,000 contracts seeded into Postgres, then changes left waiting, then reads
	measure scale-hold -seed 100000 -contracts 10000 -requests 10000 -concurrency 20 -mix hold=1
	measure inbox-list -concurrency 4 -requests 1000 -contracts 4 -mix inbox=1,list=1
fi
RUNS_SECONDS=$((SECONDS - T4))

# ----------------------------------------------------------------- summary

CONTRACTS=$(psql -d "$APP_DB" -XAtc "SELECT count(*) FROM contracts")
WAITING=$(psql -d "$APP_DB" -XAtc "SELECT count(*) FILTER (WHERE status = 'REVIEW') || ' in REVIEW, ' || count(*) FILTER (WHERE status = 'SCHEDULED') || ' SCHEDULED' FROM amendments")
WORKFLOWS=$(psql -d "$VISIBILITY_DB" -XAtc "SELECT count(*) FILTER (WHERE status = 1) || ' running, ' || count(*) FILTER (WHERE status <> 1) || ' closed' FROM executions_visibility")

# row FILE KIND LABEL CLIENTS REQS-COLUMN FLOOR-COLUMN
row() {
	jq -r --arg kind "$2" --arg title "$3" --arg clients "$4" --arg reqs "$5" --arg floor "$6" '
		def r1: (. * 10 | round) as $n | "\($n / 10 | floor).\($n % 10)";
		.kinds[] | select(.kind == $kind) |
		"| \($title) | \($clients) | \(if $reqs == "kind" then (.throughputPerSecond | r1)
			elif $reqs == "" then "" else $reqs end) | \(.p50Ms | r1) | \(.p95Ms | r1) | \(.p99Ms | r1) | \(
			if $floor == "both" and .throughputVsFloor then "\(.throughputVsFloor * 100 | round) % of throughput, \(.p50VsFloor | r1)× p50"
			elif $floor == "throughput" and .throughputVsFloor then "\(.throughputVsFloor * 100 | round) % of throughput"
			else "" end) |"' "$REPORTS/$1.json"
}

echo
echo "## summary (README Performance table format)"
echo
echo "Temporal $("$BIN/temporal-server" --version | awk '{print $NF}') (standalone, Postgres persistence + visibility, 4 history shards), contractd api and worker as separate processes; $(nproc) CPUs."
echo "State at the end: $CONTRACTS contracts, amendments waiting: $WAITING; Temporal workflows: $WORKFLOWS."
echo
echo "Each \"vs floor\" is the median of the run's rounds' own ratios ($ROUNDS rounds, the service and the floor alternating)."
echo
echo "| kind | clients | req/s | p50 ms | p95 ms | p99 ms | vs floor |"
echo "|---|---|---|---|---|---|---|"
row immediate-c1 immediate 'immediate `QUANTITY_CHANGE`' 1 kind both
row immediate-c1 floor floor 1 kind ""
row immediate-c20 immediate 'immediate `QUANTITY_CHANGE`' 20 kind throughput
row immediate-c20 floor floor 20 kind ""
row preview-review preview preview 1 "" ""
row preview-review approve approve-to-applied 1 "" ""
if [[ $SCALE == 1 ]]; then
	row inbox-list inbox "approvers' inbox, first page" "4 (mixed with list)" kind ""
	row inbox-list list "contract list, random deep page" "4 (mixed with inbox)" kind ""
fi
echo
echo "Resident memory at the end (ps -o rss): Temporal server $(rss_mb "$TEMPORAL_PID") MB, contractd worker $(rss_mb "$WORKER_PID") MB, contractd api $(rss_mb "$API_PID") MB."
echo "Load average before each run (shared machine):"
for name in immediate-c1 immediate-c20 preview-review scale-hold inbox-list; do
	[[ -n ${RUN_TIME[$name]:-} ]] && echo "  $name: ${RUN_LOAD[$name]} (run took ${RUN_TIME[$name]}s)"
done
echo "Durations: build ${BUILD_SECONDS}s, databases ${DB_SECONDS}s, Temporal up ${SERVER_SECONDS}s, contractd up ${APP_SECONDS}s, runs ${RUNS_SECONDS}s, total $((SECONDS - T0))s."
log "done; reports in $REPORTS, logs in $LOGS"
