#!/usr/bin/env bash
# Regenerates every number in docs/async-polling.md from the replay harness.
#   docs/figures/async_polling.sh [path/to/certretry-harness]   (default: build/default/bench/)
set -euo pipefail
harness=${1:-$(dirname "$0")/../../build/default/bench/certretry-harness}
seeds=${SEEDS:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# field LINE-PREFIX STAT: one statistic from `sweep` output.
field() { grep "^$1" "$tmp/out" | sed -E "s/.*$2 ([0-9.]+).*/\1/"; }

sweep() {  # sweep OPTIONS-JSON SERVER-JSON
  printf '{"machine":"async-poll","options":%s,"server":%s}\n' "$1" "$2" > "$tmp/s.json"
  "$harness" sweep "$tmp/s.json" "$seeds" > "$tmp/out"
}

echo "### Sustained 429 for the whole deadline (max_wait_s 600, $seeds seeds)"
echo
echo "| schedule | jitter | requests mean | requests max | last request at (s, max) | shortest gap (s) |"
echo "|---|---|---|---|---|---|"
for sched in async-ca certctl certctl-documented lego acme-sh vcert certbot; do
  for pct in 0 20; do
    sweep "{\"schedule\":\"$sched\",\"jitter_pct\":$pct,\"id\":1}" '{"GET /orders/1":[{"status":429}]}'
    echo "| $sched | ${pct} % | $(field requests mean) | $(field requests max) | $(field 'end time' max) | $(field shortest min) |"
  done
done
echo

echo "### Time to certificate when the CA issues at time T (no jitter)"
echo
echo "| schedule | T = 7 s | T = 30 s | T = 2 min | T = 7.5 min |"
echo "|---|---|---|---|---|"
for sched in async-ca certctl certctl-documented lego acme-sh vcert certbot; do
  row="| $sched |"
  for t in 7 30 120 450; do
    sweep "{\"schedule\":\"$sched\",\"jitter_pct\":0,\"id\":1}" \
      "{\"GET /orders/1\":[{\"status\":200,\"body\":{\"status\":\"pending\"},\"until_s\":$t},{\"status\":200,\"body\":{\"status\":\"issued\",\"certificate\":\"-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----\"}}]}"
    row+=" $(field 'end time' mean) s, $(field requests mean) requests |"
  done
  echo "$row"
done
echo

echo "### A server that answers 429 with Retry-After: 120 (certctl schedule, 20 % jitter, $seeds seeds)"
echo
echo "| honor_retry_after | requests mean | requests max | shortest gap (s) |"
echo "|---|---|---|---|"
for honor in true false; do
  sweep "{\"honor_retry_after\":$honor,\"id\":1}" \
    '{"GET /orders/1":[{"status":429,"headers":{"Retry-After":"120"}}]}'
  echo "| $honor | $(field requests mean) | $(field requests max) | $(field shortest min) |"
done
echo

echo "### Entrust AWAITING_APPROVAL approved after 6 h (max_wait_s 86400, certctl schedule, 20 % jitter, $seeds seeds)"
echo
echo "| requests mean | requests max | certificate at (s, mean) | certificate at (s, max) |"
echo "|---|---|---|---|"
sweep '{"profile":"entrust","ca":"CA1","id":"E9","max_wait_s":86400}' \
  '{"GET /v1/certificate-authorities/CA1/enrollments/E9":[{"status":200,"body":{"status":"AWAITING_APPROVAL"},"until_s":21600},{"status":200,"body":{"status":"ISSUED","certificate":"PEM"}}]}'
echo "| $(field requests mean) | $(field requests max) | $(field 'end time' mean) | $(field 'end time' max) |"
echo

echo "### The same order with certretry's async-CA default (max_wait_s 86400, async-ca schedule, 20 % jitter, $seeds seeds)"
echo
echo "| requests mean | requests max | certificate at (s, mean) | certificate at (s, max) |"
echo "|---|---|---|---|"
sweep '{"profile":"entrust","ca":"CA1","id":"E9","max_wait_s":86400,"schedule":"async-ca"}' \
  '{"GET /v1/certificate-authorities/CA1/enrollments/E9":[{"status":200,"body":{"status":"AWAITING_APPROVAL"},"until_s":21600},{"status":200,"body":{"status":"ISSUED","certificate":"PEM"}}]}'
echo "| $(field requests mean) | $(field requests max) | $(field 'end time' mean) | $(field 'end time' max) |"
