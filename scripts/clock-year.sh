#!/usr/bin/env bash
# clock-year.sh: times one advance of a test clock by a year, for the README's
# Performance section: a monthly contract on the clock with a three-step ramp
# and an auto-renewal (term ends after 9 months, renews for 12 at +3.5 %).
# Against a running `contractd dev` (its demo tenant is a sandbox); needs curl,
# jq and bc. Prints the time from the advance request to the clock ready, the
# contract and its invoices, then deletes the clock.
#
#   scripts/clock-year.sh                      # against localhost:8080
#   U=http://127.0.0.1:8095 scripts/clock-year.sh
set -euo pipefail
U=${U:-http://localhost:8080}
OP='Authorization: Bearer demo-operator-key'; SU='Authorization: Bearer demo-submitter-key'
CLOCK=$(curl -s -X POST $U/api/test-clocks -H "$OP" -d '{"name":"year","frozenTime":"2030-01-01T09:00:00Z"}' | jq -er .id)
# The clock is deleted on the way out (its contract cancelled): a tenant has
# at most 100 clocks not deleted, and runs against one database add up.
trap 'curl -s -o /dev/null -X DELETE $U/api/test-clocks/$CLOCK -H "$OP"' EXIT
ACC="ACC-Y$RANDOM"
CT=$(curl -s -X POST $U/api/contract-actions -H "$SU" -d '{"accountNumber":"'$ACC'","testClockId":"'$CLOCK'","actions":[{"type":"create-contract-with-plan","createContractWithPlan":[{"planId":"off_team","effectiveDate":"2030-01-01","expirationDate":"2030-10-01","currency":["USD"],"quantities":{"prod_seat":5},"renewal":{"mode":"AUTO_RENEW","termMonths":12,"upliftBasisPoints":350,"noticeDays":30}}]}]}' | jq -r .contractId)
for m in 02 03 04; do
  curl -s -X POST $U/api/selfService/contract -H "$SU" -d '{"action":"QUANTITY_CHANGE","contractId":"'$CT'","effectiveDate":"2030-'$m'-01","payload":{"offerings":[{"offeringId":"off_team","products":[{"productId":"prod_seat","quantity":'$((5+10#$m))'}]}]}}' | jq -r .quote.status
done
start=$(date +%s.%N)
curl -s -X POST $U/api/test-clocks/$CLOCK/advance -H "$OP" -d '{"to":"2031-01-01T09:00:00Z"}' | jq -r .status
until [[ $(curl -s $U/api/test-clocks/$CLOCK -H "$OP" | jq -r .status) == ready ]]; do sleep 0.1; done
end=$(date +%s.%N)
echo "advance of a year: $(echo "$end - $start" | bc) s"
curl -s $U/api/contracts/$CT -H "$SU" | jq -c '{status, version, expirationDate, recurringAmount}'
curl -s $U/api/contracts/$CT/invoices -H "$SU" | jq -c '[.items[] | {kind, periodStart, total, status}]'
