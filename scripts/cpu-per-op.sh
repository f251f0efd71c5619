#!/usr/bin/env bash
# cpu-per-op.sh: the CPU each process spent per operation while a command
# ran, for the README's Performance section: which share of a change is
# contractd's (API, worker, its statements in Postgres) and which Temporal's.
#
#   scripts/cpu-per-op.sh N COMMAND...
#
# N is how many operations COMMAND performs (loadgen's -requests, say).
# Each process's user and system time is read from /proc before and after;
# Postgres backends are grouped by their database (pg_stat_activity), so
# that contractd's statements and Temporal's persistence show apart. A
# process that starts and ends within the command (COMMAND itself, a
# short-lived connection) is not counted: time the client separately.
# Example, against the production shape's stack (scripts/perf-temporal-postgres.sh):
#
#   scripts/cpu-per-op.sh 1000 loadgen -url http://127.0.0.1:18080 ... -concurrency 20 -requests 1000
#
# Needs Linux's /proc, psql (PG* variables, as the perf script) and awk.
set -euo pipefail

if (($# < 2)) || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 N COMMAND..." >&2
	exit 2
fi
ops=$1
shift
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

# snapshot FILE: one line per process, "pid ticks label".
snapshot() {
	local pid stat rest cmd label
	declare -A db=()
	while read -r pid name; do
		db[$pid]=$name
	done < <(psql -d postgres -XAtF' ' -c "SELECT pid, coalesce(datname, backend_type) FROM pg_stat_activity")
	: >"$1"
	for dir in /proc/[0-9]*; do
		pid=${dir#/proc/}
		((pid != $$)) || continue # this script's own reading of /proc
		stat=$(cat "$dir/stat" 2>/dev/null) || continue
		cmd=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
		# Fields after the command name, which may hold spaces: utime and
		# stime are the 12th and 13th.
		rest=${stat##*) }
		read -r -a f <<<"$rest"
		if [[ $cmd == postgres:* ]]; then
			label="postgres ${db[$pid]:-(background)}"
		else
			read -r -a argv <<<"$cmd"
			((${#argv[@]} > 0)) || continue
			label=${argv[0]##*/}
			if ((${#argv[@]} > 1)) && [[ ${argv[1]} != -* ]]; then
				label+=" ${argv[1]}"
			fi
		fi
		echo "$pid $((f[11] + f[12])) $label" >>"$1"
	done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
snapshot "$tmp/before"
start=$(date +%s.%N)
"$@"
end=$(date +%s.%N)
snapshot "$tmp/after"

hz=$(getconf CLK_TCK)
secs=$(echo "$end - $start" | bc)
# Per label: ms of CPU per operation, the largest first; then the total.
awk -v ops="$ops" -v hz="$hz" '
	NR == FNR { before[$1] = $2; next }
	{
		label = $3
		for (i = 4; i <= NF; i++) label = label " " $i
		ticks = $2 - (($1 in before) ? before[$1] : 0)
		if (ticks > 0) cpu[label] += ticks
	}
	END { for (l in cpu) printf "%.2f\t%s\n", cpu[l] * 1000 / hz / ops, l }' "$tmp/before" "$tmp/after" |
	sort -t$'\t' -k1,1 -rn >"$tmp/table"
printf '%-44s %8s\n' process ms/op
awk -F'\t' '{ printf "%-44s %8s\n", $2, $1 }' "$tmp/table"
awk -F'\t' -v ops="$ops" -v secs="$secs" '{ t += $1 }
	END { printf "%-44s %8.2f   (%d ops in %.1f s, %.1f/s)\n", "total", t, ops, secs, ops / secs }' "$tmp/table"
