#!/usr/bin/env bash
# billing-perf.sh: times one billing run over N freshly seeded contracts, for
# the README's Performance section. Against a running `contractd dev` on a
# fresh database: subscribes a webhook to invoice.created (a receiver on
# RECEIVER_ADDR, scripts/webhook-receiver, started here), bulk-seeds N
# contracts due today with cmd/loadgen, puts DECLINED percent of them on the
# sandbox's declining card, runs POST /api/billing/run and follows its
# progress until it ends, then waits until every invoice.created event is
# delivered (waiting at most DRAIN_LIMIT seconds, 1800). Needs curl, jq, bc and psql.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/contracts?sslmode=disable scripts/billing-perf.sh 10000
#   U=http://127.0.0.1:8096 DECLINED=5 scripts/billing-perf.sh 100000
set -euo pipefail
N=${1:?usage: billing-perf.sh N}
U=${U:-http://localhost:8080}
DB=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/contracts?sslmode=disable}
DECLINED=${DECLINED:-5}
RECEIVER_ADDR=${RECEIVER_ADDR:-127.0.0.1:9098}
OP='Authorization: Bearer demo-operator-key'
cd "$(dirname "$0")/.."

BIN=$(mktemp -d)
go build -o "$BIN/webhook-receiver" ./scripts/webhook-receiver
"$BIN/webhook-receiver" -addr "$RECEIVER_ADDR" >/dev/null 2>&1 &
RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null; rm -rf "$BIN"' EXIT
curl -sf -X POST "$U/api/webhooks" -H "$OP" -d '{"url": "http://'"$RECEIVER_ADDR"'/hooks",
  "events": ["invoice.created"], "description": "billing-perf"}' | jq -c '{id, events}'

go run ./cmd/loadgen -url "$U" -database-url "$DB" -seed "$N" -contracts 1 -requests 1 -mix preview=1 >/dev/null
psql "$DB" -qc "UPDATE contracts SET payment_method = 'pm_declined' WHERE abs(hashtext(id::text)) % 100 < $DECLINED"

TODAY=$(date -u +%F)
start=$(date +%s.%N)
curl -s -X POST "$U/api/billing/run" -H "$OP" -d '{"asOf": "'"$TODAY"'"}' >/dev/null
until [[ $(curl -s "$U/api/billing/runs/$TODAY" -H "$OP" | jq -r .status) != RUNNING ]]; do sleep 0.5; done
ran=$(date +%s.%N)
curl -s "$U/api/billing/runs/$TODAY" -H "$OP" | jq -c 'del(.startedAt, .finishedAt)'
echo "billing run: $(echo "$ran - $start" | bc) s for $N contracts"

invoices=$(psql "$DB" -tAc "SELECT count(*) FROM invoices")
delivered() { psql "$DB" -tAc "SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED'"; }
deadline=$(( $(date +%s) + ${DRAIN_LIMIT:-1800} ))
until [[ $(delivered) -ge $invoices || $(date +%s) -gt $deadline ]]; do sleep 0.5; done
echo "$(delivered) of $invoices invoice.created events delivered $(echo "$(date +%s.%N) - $ran" | bc) s after the run ended"
