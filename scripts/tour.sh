#!/usr/bin/env bash
# The README tour: runs every command of the README's "Endpoints" section, in
# the README's order and as written, against a running `make dev`, and checks
# each answer's status and key fields.
#
#   scripts/tour.sh           run it (make tour)
#   scripts/tour.sh --check   only match the README's commands with the steps
#                             below, without a server (a Go test runs this)
#
# The commands come from README.md itself, so what a reader copies is what
# runs; the steps below only say what each answer must be, and the tour fails
# when a step's command is not the README's next one, or when the README has
# a command without a step. Placeholders are shell variables the commands set
# from earlier answers.
#
# Environment: TOUR_URL (default http://localhost:8080) is where the API is,
# TOUR_HOOK_ADDR (default 127.0.0.1:9099) where the tour's webhook receiver
# listens; the README's addresses are rewritten to these.
set -euo pipefail
cd "$(dirname "$0")/.."

README=README.md
TOUR_URL=${TOUR_URL:-http://localhost:8080}
TOUR_HOOK_ADDR=${TOUR_HOOK_ADDR:-127.0.0.1:9099}
MODE=run
[[ ${1:-} == --check ]] && MODE=check

# readme_commands prints the commands of the sh blocks under "## Endpoints",
# each ended by a NUL. A command goes on while a single quote is open or its
# line ends with \ or |; comments and blank lines between commands are skipped.
readme_commands() {
  awk '
    /^## / { inside = ($0 == "## Endpoints") }
    inside && /^```sh$/ { block = 1; next }
    block && /^```$/ { block = 0; next }
    !block { next }
    cmd == "" && /^[[:space:]]*(#.*)?$/ { next }
    {
      cmd = cmd (cmd == "" ? "" : "\n") $0
      quotes += gsub(/\047/, "\047")
      if (quotes % 2 == 0 && $0 !~ /[\\|][[:space:]]*$/) { printf "%s%c", cmd, 0; cmd = ""; quotes = 0 }
    }
  ' "$README"
}

mapfile -d '' CMDS < <(readme_commands)
N=0 # steps taken

fail() {
  printf '\nFAIL step %d: %s\n' "$N" "$1" >&2
  shift
  for detail in "$@"; do printf '%s\n' "$detail" >&2; done
  exit 1
}

# step TITLE NEEDLE [CHECK...] takes the README's next command, which must
# contain NEEDLE, runs it and applies each CHECK:
#   NNN        the last HTTP answer's status
#   jq:EXPR    a jq expression true of the last answer's body (env.X reads $X)
#   sh:EXPR    a shell expression true afterwards ($OUT is the command's output)
#   poll       run again, up to 30 s, until the checks pass (for what happens
#              asynchronously, like a webhook delivery)
step() {
  local title=$1 needle=$2
  shift 2
  N=$((N + 1))
  ((N <= ${#CMDS[@]})) || fail "$title: the README has only ${#CMDS[@]} commands"
  local cmd=${CMDS[N - 1]}
  [[ $cmd == *"$needle"* ]] || fail "$title: the README's command $N does not contain '$needle'" "$cmd"
  [[ $MODE == run ]] || return 0

  local tries=1 why start=$EPOCHREALTIME
  [[ " $* " == *" poll "* ]] && tries=60
  cmd=${cmd//localhost:8080/$TOUR_HOST}
  cmd=${cmd//127.0.0.1:9099/$TOUR_HOOK_ADDR}
  while :; do
    : >"$T/status"
    : >"$T/body"
    why=""
    eval "$cmd" >"$OUT" 2>"$T/stderr" || why="the command failed (exit $?)"
    [[ -n $why ]] || why=$(check "$@")
    [[ -n $why ]] || break
    tries=$((tries - 1))
    ((tries > 0)) || fail "$title: $why" "command: $cmd" "HTTP status: $(cat "$T/status")" \
      "body: $(head -c 2000 "$T/body")" "output: $(head -c 2000 "$OUT")" "stderr: $(head -c 2000 "$T/stderr")"
    sleep 0.5
  done
  local took
  took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  printf '  ok  %2d  %-52s %6ss\n' "$N" "$title" "$took"
  TIMINGS+=("$took")
}

# check CHECK... prints why the last command's answer fails a check, if it does.
check() {
  local c
  for c in "$@"; do
    case $c in
      poll) ;;
      [0-9][0-9][0-9]) [[ $(cat "$T/status") == "$c" ]] || { echo "HTTP status $(cat "$T/status"), want $c"; return; } ;;
      jq:*) jq -e "${c#jq:}" "$T/body" >/dev/null 2>&1 || { echo "answer fails: ${c#jq:}"; return; } ;;
      sh:*) eval "${c#sh:}" || { echo "fails: ${c#sh:}"; return; } ;;
      *) echo "unknown check $c"; return ;;
    esac
  done
}

# utc_date_ago SECONDS prints the UTC date that many seconds ago (jq's, as
# date -d is GNU's only): a step run just before midnight UTC is checked
# just after it.
utc_date_ago() { jq -nr --argjson s "$1" 'now - $s | strftime("%Y-%m-%d")'; }

# curl, as the README's commands call it: the real curl, which also records
# the answer's status and body for the checks, then prints the body as the
# reader would see it. Each call writes its own files and renames them, so a
# pipeline of two calls leaves the second one's answer.
curl() {
  local f
  f=$(mktemp "$T/call.XXXXXX")
  : >"$f.body"
  command curl -sS --max-time 60 -o "$f.body" -w '%{http_code}' "$@" >"$f.status" || return
  mv "$f.body" "$T/body"
  mv "$f.status" "$T/status"
  cat "$T/body"
}

steps() {
  # Health
  step "the process is up" "/healthz" 200 'jq:.status == "up"'
  step "Postgres and Temporal answer" "/readyz" 200
  # Catalog
  step "read the catalog" "/api/catalog -H" 200 'jq:.offerings | map(.id) | index("off_team") != null'
  step "add a Support offering to it, keeping the rest" "-X PUT localhost:8080/api/catalog" 200 \
    'jq:[.offerings[].id] | index("off_support") != null and index("off_team") != null'
  # Contracts
  step "dates relative to today" "TODAY=" 'sh:[[ ($TODAY == "$(date -u +%F)" || $TODAY == "$(utc_date_ago 60)") && $EXPIRES > $TODAY ]]'
  step "create a contract starting today" "/api/contract-actions" 200 \
    'jq:.status == "active" and .contractId == env.CONTRACT and .contractInfo.effectiveDate == env.TODAY'
  step "read it by uuid" '/api/contracts/$CONTRACT -H' 200 \
    'jq:.id == env.CONTRACT and .status == "active" and .segmentCount == 1 and (.segments | length) == 1'
  step "its segments, a page at a time" '/api/contracts/$CONTRACT/segments' 200 \
    'jq:(.items | length) == 1 and .items[0].previousContractSegmentId == null and (has("nextPageToken") | not)'
  step "list the account's active contracts" "/api/contracts?accountNumber=" 200 'jq:.items | length >= 1'
  # Amendments
  step "change the seats now: applied" '"QUANTITY_CHANGE"' 200 \
    'jq:.status == "SUCCESS" and .quote.status == "APPLIED" and .quote.id == env.AMENDMENT'
  step "change the rate next bill cycle: scheduled" "NEXT_BILL_CYCLE" 200 'jq:.quote.status == "SCHEDULED" and .quote.id == env.SCHEDULED'
  step "the contract's timeline: the rate change pending" '/api/contracts/$CONTRACT/timeline' 200 \
    'jq:.current.billingPeriod == "MONTHLY" and ([.phases[].amendmentId] | index(env.SCHEDULED) != null)'
  step "the rate change's date" "NEXT=" 200 'sh:[[ $NEXT > $TODAY ]]'
  step "the contract on that date: billed annually" '?asOf=$NEXT' 200 'jq:.asOf == env.NEXT and .billingPeriod == "ANNUAL"'
  step "preview a cancellation: nothing stored" "preview=true" 200 'jq:.quote.status == "PREVIEW"'
  step "read the applied amendment" '/api/amendments/$AMENDMENT' 200 'jq:.status == "APPLIED" and .id == env.AMENDMENT'
  step "list the contract's amendments" '/api/contracts/$CONTRACT/amendments' 200 'jq:.items | length >= 2'
  step "withdraw the scheduled one" '$SCHEDULED/withdraw' 200 'jq:.status == "WITHDRAWN"'
  # Contract terms
  step "auto-renew at +3.5 %: applied" '"RENEWAL_TERMS_CHANGE"' 200 \
    'jq:.quote.status == "APPLIED" and .contract.renewal.mode == "AUTO_RENEW" and .contract.renewal.upliftBasisPoints == 350'
  step "cancel at the end of the term: no fee" '"END_OF_TERM"' \
    'jq:.quote.effectiveDate == env.EXPIRES and .quote.terminationFee == null and .quote.prorationTotal == 0 and .quote.id == env.UNCANCEL'
  step "un-cancel: withdrawn" '$UNCANCEL/withdraw' 200 'jq:.status == "WITHDRAWN"'
  # Approval rules and decisions
  step "set the approval rules" "-X PUT localhost:8080/api/approval-rules" 200 'jq:[.rules[].id] == ["cancel", "big"]'
  step "read them" "/api/approval-rules -H" 200 'jq:.rules | length == 2'
  step "a change the submitter wants approved: held" '"requireApproval": true' 202 \
    'jq:.status == "REVIEW" and .quote.id == env.HELD'
  step "the approvers' inbox" "/api/approvals?" 200 'jq:.items | length >= 1'
  step "the quote version the approver sees" "QV=" 200 'sh:[[ $QV =~ ^[0-9]+$ ]]'
  step "approve it, naming that version: applied" '$HELD/approve' 200 'jq:.status == "APPLIED"'
  step "a cancellation: held by the cancel rule" '"CANCELLATION"' 202 'jq:.quote.status == "REVIEW" and .quote.id == env.CANCELLATION'
  step "reject it: the contract stays" '$CANCELLATION/reject' 200 'jq:.status == "REJECTED"'
  step "amendments in a status" "/api/amendments?status=APPLIED" 200 'jq:.items | length >= 2'
  # Crossgrade
  step "the contract's customer" "jq -r .customerId" 200 'sh:[[ $CUSTOMER =~ ^[0-9a-f-]{36}$ ]]'
  step "the contract's ref" "jq -r .ref" 200 'sh:[[ $REF =~ ^[0-9]+$ ]]'
  step "preview the crossgrade: priced, nothing stored" "crossgrade?preview=true" 200 \
    'jq:.quote.status == "PREVIEW" and .amendment == null'
  step "crossgrade to Business: an upgrade, applied today" "/crossgrade" 200 \
    'jq:.amendment.status == "APPLIED" and .amendment.contractId == env.CONTRACT'
  # Payment schedules and billing
  step "cancel the payment schedule" "/cancelSchedule" 200 'sh:grep -q "cancelled successfully" "$OUT"'
  step "restart it" "/restartSchedule" 200 'sh:grep -q "restarted successfully" "$OUT"'
  step "the schedule's history: created, cancelled, restarted" '/schedule-history' 200 \
    'jq:[.items[].status] == ["Active", "Terminated", "Active"] and .items[2].comment == "customer paid" and (has("nextPageToken") | not)'
  step "bill what is due today" "/api/billing/run" 200 'jq:.asOf == env.TODAY and .failed == 0'
  # The answer is the date's latest run: the daily Schedule's (00:30 UTC), or
  # another operator's, may have started one since, which ends in a moment.
  step "the run, ended" '/api/billing/runs/$TODAY' 200 poll \
    'jq:.runId == env.TODAY and .status == "COMPLETED" and .checked == .due and .failed == 0'
  step "the contract's invoices" '/api/contracts/$CONTRACT/invoices' 200 'jq:.items | length >= 1'
  step "invoices with payments, credits and amount due" '/api/contracts/$CONTRACT/invoices' 200 \
    'jq:(.items[0] | has("amountDue")) and has("creditNotes")'
  step "the account's balance" "/api/accounts/ACC-0000000001/balance" 200 \
    'jq:.accountNumber == "ACC-0000000001" and (.balances | length >= 1)'
  # Early-termination penalties
  step "operator key in \$H" "H='Authorization: Bearer demo-operator-key'" 'sh:[[ -n $H ]]'
  step "list terminations" "Termination/ -H" 200 'jq:has("trackingId")'
  step "page through them" "Termination/Paged?" 200 'jq:has("trackingId")'
  step "page through them with details" "Termination/Paged/Detail" 200 'jq:has("trackingId")'
  step "create one" "-X POST localhost:8080/api/v5/Contract/Termination/" 200 'sh:[[ $TERMINATION =~ ^[0-9]+$ ]]'
  step "read it" 'Termination/$TERMINATION -H' 200 'jq:has("trackingId")'
  step "read it with details" 'Termination/$TERMINATION/Detail' 200 'jq:has("trackingId")'
  step "rename it" "-X PUT" 200 'jq:has("trackingId")'
  step "add period charges" "-X PATCH" 200 'jq:has("trackingId")'
  step "delete it" "-X DELETE" 200 'jq:has("trackingId")'
  # Events and webhooks
  step "operator key in \$H" "H='Authorization: Bearer demo-operator-key'" 'sh:[[ -n $H ]]'
  step "the event feed" "/api/events?after=0" 200 'jq:.items | length >= 1'
  step "subscribe the local receiver" "WEBHOOK=" 201 'jq:(.secret | startswith("whsec_")) and .id == env.WEBHOOK'
  step "list subscriptions" "/api/webhooks -H" 200 'jq:[.items[].id] | index(env.WEBHOOK) != null'
  step "rotate its secret" "/rotate-secret" 200 'jq:.secret | startswith("whsec_")'
  step "a change to deliver" '"off_business"' 200 'jq:.quote.status == "APPLIED"'
  step "its delivery, received" '$WEBHOOK/deliveries -H' 200 poll \
    'jq:[.items[] | select(.eventType == "amendment.applied" and .status == "DELIVERED")] | length >= 1' \
    'sh:grep -q "\"type\":\"amendment.applied\"" "$T/receiver.log"'
  step "the first delivery's id" "DELIVERY=" 200 'sh:[[ $DELIVERY =~ ^[0-9a-f-]{36}$ ]]'
  step "redeliver it" "/redeliver" 202
  step "unsubscribe" '-X DELETE localhost:8080/api/webhooks/$WEBHOOK' 204
  # Rehearse with a test clock
  step "operator key in \$H" "H='Authorization: Bearer demo-operator-key'" 'sh:[[ -n $H ]]'
  step "a test clock, on 1 January 2026" "CLOCK=" 201 \
    'jq:.status == "ready" and .id == env.CLOCK and .frozenTime == "2026-01-01T09:00:00Z"'
  step "a contract on it, from the clock's day" "CLOCKED=" 200 \
    'jq:.contractId == env.CLOCKED and .contractInfo.testClockId == env.CLOCK and .contractInfo.effectiveDate == "2026-01-01"'
  step "a change a month later, on the clock: scheduled" '"effectiveDate": "2026-02-01"' 200 'jq:.quote.status == "SCHEDULED"'
  step "advance two months: advancing" '$CLOCK/advance' 202 'jq:.status == "advancing" and .targetTime == "2026-03-01T09:00:00Z"'
  step "the clock, ready on 1 March" '/api/test-clocks/$CLOCK -H' 200 poll \
    'jq:.status == "ready" and .frozenTime == "2026-03-01T09:00:00Z" and .contracts == 1'
  step "the contract: 7 seats since 1 February" '/api/contracts/$CLOCKED -H' 200 \
    'jq:.testClockId == env.CLOCK and (.lines[0].products[] | select(.productId == "prod_seat") | .quantity) == 7'
  step "its change: applied on 1 February" '/api/contracts/$CLOCKED/amendments' 200 \
    'jq:[.items[] | select(.status == "APPLIED" and .effectiveDate == "2026-02-01")] | length == 1'
  step "its invoices: January to March" '/api/contracts/$CLOCKED/invoices' 200 \
    'jq:[.items[] | select(.kind == "RECURRING") | .periodStart] == ["2026-01-01", "2026-02-01", "2026-03-01"]'
  step "events with business and wall time" 'select(.contractId == "' 200 'jq:.items | all(has("occurredAt") and has("recordedAt"))'
  step "delete the clock" '-X DELETE localhost:8080/api/test-clocks/$CLOCK' 200 'jq:.status == "deleted" and has("deletedOn")'
  # Operator commands
  step "point the operator commands at the API" "export CONTRACTD_URL" 'sh:[[ -n $CONTRACTD_URL ]]'
  step "hold one more change" '"requireApproval": true' 202 'jq:.status == "REVIEW" and .quote.id == env.HELD'
  step "contractd amendments list" "amendments list" 'sh:grep -q "$HELD" "$OUT"'
  step "contractd amendments show: a summary" "amendments show" \
    'sh:grep -Eq "^status +REVIEW" "$OUT" && (($(wc -l <"$OUT") < 20))'
  step "contractd approve" "contractd approve" 'sh:grep -Eq "^status +APPLIED" "$OUT"'
  step "contractd billing-run" "contractd billing-run" 'sh:grep -Eq "^invoiced +[0-9]+$" "$OUT"'
  # API reference
  step "the OpenAPI document" "/openapi.json" 200 'sh:grep -q "/api/contract-actions" "$OUT"'
}

if [[ $MODE == check ]]; then
  steps
  ((N == ${#CMDS[@]})) || fail "the README has ${#CMDS[@]} commands under Endpoints but the tour has $N steps"
  echo "tour: $N steps match the README's $N commands"
  exit 0
fi

command -v jq >/dev/null || fail "the tour needs jq"
T=$(mktemp -d)
OUT=$T/out
TOUR_HOST=${TOUR_URL#*://}
TIMINGS=()
RECEIVER=""
cleanup() {
  [[ -z $RECEIVER ]] || kill "$RECEIVER" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

echo "tour: ${#CMDS[@]} README commands against $TOUR_URL"
for _ in $(seq 1 120); do
  command curl -sf "$TOUR_URL/readyz" >/dev/null && break
  sleep 0.5
done
command curl -sf "$TOUR_URL/readyz" >/dev/null || fail "nothing ready at $TOUR_URL/readyz: start \`make dev\` first"
# The operator commands run ./contractd, which `make dev` builds.
[[ -x ./contractd ]] || go build -o contractd ./cmd/contractd
go build -o "$T/webhook-receiver" ./scripts/webhook-receiver
"$T/webhook-receiver" -addr "$TOUR_HOOK_ADDR" >"$T/receiver.log" 2>&1 &
RECEIVER=$!
for _ in $(seq 1 40); do
  [[ $(command curl -s -o /dev/null -w '%{http_code}' -X POST "http://$TOUR_HOOK_ADDR/") == 204 ]] && break
  sleep 0.25
done

# Every variable the commands set is exported, so jq checks can read it.
set -a
started=$EPOCHREALTIME
steps
((N == ${#CMDS[@]})) || fail "the README has ${#CMDS[@]} commands under Endpoints but the tour has $N steps"
total=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
slowest=$(printf '%s\n' "${TIMINGS[@]}" | sort -g | tail -n 1)
echo "tour: all $N steps passed in ${total}s (slowest step ${slowest}s)"
