#!/usr/bin/env bash
# The harness's error paths (docs/harness.md, "Commands and exit codes"):
#   - every invalid/*-malformed*.json and invalid/unknown-option.json: `replay` exits 2, prints
#     nothing on stdout, and names the offending field on stderr;
#   - invalid/unmatched-request.json: exit 3, `no scripted response for METHOD PATH` on stderr,
#     no outcome line on stdout;
#   - invalid/check-*.json: `check` exits 1 (an expectation failed) or 2 (a malformed expect
#     block, or none);
#   - a file that does not exist: exit 2;
#   - the still_pending outcome line of a Retry-After past the deadline carries not_before;
#   - the ACME machines' malformed options (written here, inline): exit 2 naming the field;
#   - what `check` has no assertion for in the acme-*/ari-* scenarios: whether each new-order
#     payload carries `replaces`, the renewal-time event's `at`, the renew_at and still_pending
#     outcomes' not_before, and that another seed picks another renewal time;
#   - --help: exit 0 and the list of machines.
# usage: check_exit_codes.sh PATH/TO/certretry-harness
set -u

harness=${1:?usage: check_exit_codes.sh PATH/TO/certretry-harness}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir="$here/invalid"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
checked=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run CMD... : runs the harness, leaving stdout in $tmp/out, stderr in $tmp/err, exit code in rc.
run() {
  "$harness" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# expect_rc WHAT WANT
expect_rc() {
  [ "$rc" -eq "$2" ] || fail "$1: exit $rc, wanted $2 (stderr: $(head -c 300 "$tmp/err"))"
}

# expect_err WHAT TEXT : stderr contains TEXT (fixed string).
expect_err() {
  grep -qF -- "$2" "$tmp/err" || fail "$1: stderr lacks '$2' (stderr: $(head -c 300 "$tmp/err"))"
}

# The text each malformed scenario's message must contain: the field it names.
field_of() {
  case "$1" in
    not-json-malformed.json) echo 'scenario: not valid JSON' ;;
    top-level-array-malformed.json) echo 'scenario: the top level must be an object' ;;
    machine-missing-malformed.json) echo 'machine: missing' ;;
    machine-type-malformed.json) echo 'machine: must be a string' ;;
    machine-unknown-malformed.json) echo "machine: 'no-such-machine'" ;;
    options-type-malformed.json) echo 'options: must be an object' ;;
    option-type-malformed.json) echo 'options.jitter_pct: must be a number' ;;
    option-range-malformed.json) echo 'options.jitter_pct:' ;;
    option-profile-malformed.json) echo "options.profile: 'letsencrypt'" ;;
    option-schedule-malformed.json) echo "options.schedule: 'fibonacci'" ;;
    option-jitter-malformed.json) echo "options.jitter: 'random'" ;;
    option-now-malformed.json) echo 'options.now:' ;;
    option-max-wait-malformed.json) echo 'options.max_wait_s:' ;;
    option-max-attempts-malformed.json) echo 'options.max_attempts:' ;;
    option-min-delay-malformed.json) echo 'options.min_delay_s:' ;;
    option-honor-malformed.json) echo 'options.honor_retry_after:' ;;
    option-id-malformed.json) echo 'options.id:' ;;
    seed-malformed.json) echo 'seed:' ;;
    server-missing-malformed.json) echo 'server: missing' ;;
    server-type-malformed.json) echo 'server: must be an object' ;;
    server-key-malformed.json) echo 'server["GET orders/7"]:' ;;
    server-list-malformed.json) echo 'server["GET /orders/7"]: must be a list' ;;
    server-empty-list-malformed.json) echo 'server["GET /orders/7"]: the list of responses is empty' ;;
    response-type-malformed.json) echo 'server["GET /orders/7"][0]:' ;;
    status-missing-malformed.json) echo 'server["GET /orders/7"][0].status: missing' ;;
    status-range-malformed.json) echo 'server["GET /orders/7"][1].status:' ;;
    status-type-malformed.json) echo 'server["GET /orders/7"][0].status:' ;;
    transport-error-malformed.json) echo 'server["GET /orders/7"][0].transport_error:' ;;
    latency-malformed.json) echo 'server["GET /orders/7"][0].latency_s:' ;;
    headers-malformed.json) echo 'server["GET /orders/7"][0].headers.Retry-After:' ;;
    expect-type-malformed.json) echo 'expect: must be an object' ;;
    ledger-malformed.json) echo 'ledger: failures: the classes add up to 2, more than consecutive (1)' ;;
    ledger-type-malformed.json) echo 'ledger: must be an object' ;;
    escalation-malformed.json) echo 'escalation.steps_s: must be a list of 4 numbers of seconds' ;;
    start-jitter-malformed.json) echo 'start_jitter_s: must be a number of seconds from 0 to 86400' ;;
    *) return 1 ;;
  esac
}

# Malformed scenarios: exit 2, empty stdout, the field named on stderr.
for f in "$dir"/*-malformed*.json; do
  name=$(basename "$f")
  checked=$((checked + 1))
  if ! want=$(field_of "$name"); then
    fail "$name: no expected field listed in check_exit_codes.sh"
    continue
  fi
  run replay "$f"
  expect_rc "$name" 2
  [ -s "$tmp/out" ] && fail "$name: printed a transcript for a malformed scenario"
  expect_err "$name" "$want"
done

# An option the machine does not know: exit 2, naming it.
checked=$((checked + 1))
run replay "$dir/unknown-option.json"
expect_rc unknown-option.json 2
[ -s "$tmp/out" ] && fail "unknown-option.json: printed a transcript"
expect_err unknown-option.json 'options.retry_after_s: unknown option'

# A request no key matches: exit 3, the request on stderr, the transcript so far but no outcome.
checked=$((checked + 1))
run replay "$dir/unmatched-request.json"
expect_rc unmatched-request.json 3
expect_err unmatched-request.json 'no scripted response for GET /certificate/6/download/format/pem_all'
grep -q '"outcome"' "$tmp/out" && fail "unmatched-request.json: stdout has an outcome line"
grep -qF '"send":"GET /order/certificate/5"' "$tmp/out" ||
  fail "unmatched-request.json: the transcript before the unmatched request is missing"
# `check` stops the same way.
run check "$dir/unmatched-request.json"
expect_rc "check unmatched-request.json" 3

# `check`: a failed expectation is 1, a malformed or missing expect block is 2.
checked=$((checked + 1))
run check "$dir/check-expect-fails.json"
expect_rc check-expect-fails.json 1
expect_err check-expect-fails.json 'expect.outcome: wanted issued, saw failed'
run check "$dir/check-expect-ledger-fails.json"
expect_rc check-expect-ledger-fails.json 1
expect_err check-expect-ledger-fails.json 'expect.ledger.consecutive: wanted 0, saw 1; the saved ledger: {'
run check "$dir/check-expect-unknown.json"
expect_rc check-expect-unknown.json 2
expect_err check-expect-unknown.json 'expect.outcomes: unknown assertion'
run check "$dir/check-no-expect.json"
expect_rc check-no-expect.json 2
expect_err check-no-expect.json 'no "expect" block'
# Several files: the worst exit code wins.
run check "$dir/check-no-expect.json" "$dir/check-expect-fails.json"
expect_rc "check (two files)" 2

# A scenario file that does not exist.
checked=$((checked + 1))
run replay "$dir/does-not-exist.json"
expect_rc "missing file" 2
expect_err "missing file" 'does-not-exist.json'
run check "$dir/does-not-exist.json"
expect_rc "check missing file" 2

# The outcome line's not_before (an extension `check` has no assertion for): a Retry-After of
# 900 s received at 2025-01-01T00:00:00Z, past the 600 s deadline.
checked=$((checked + 1))
run replay "$here/async-retry-after-beyond-deadline.json"
expect_rc async-retry-after-beyond-deadline.json 0
tail -n 1 "$tmp/out" | grep -qF '"outcome":"still_pending","sends":1,' ||
  fail "async-retry-after-beyond-deadline.json: last line is not the still_pending outcome"
tail -n 1 "$tmp/out" | grep -qF '"not_before":"2025-01-01T00:15:00Z"' ||
  fail "async-retry-after-beyond-deadline.json: outcome lacks not_before 2025-01-01T00:15:00Z"

# --- ACME machines ---------------------------------------------------------------------------

# option_case NAME MACHINE OPTIONS_JSON TEXT : a scenario for MACHINE with OPTIONS_JSON is refused
# (exit 2, nothing on stdout) with TEXT, the field, on stderr. The scenario is written to $tmp
# (cert_pem paths resolve against that directory).
option_case() {
  checked=$((checked + 1))
  printf '{"machine": "%s", "options": %s, "server": {"*": [{"status": 200}]}}\n' "$2" "$3" \
    >"$tmp/$1.json"
  run replay "$tmp/$1.json"
  expect_rc "$1" 2
  [ -s "$tmp/out" ] && fail "$1: printed a transcript for a malformed scenario"
  expect_err "$1" "$4"
}
printf 'not a certificate\n' >"$tmp/not-a-cert.pem"
cid='"cert_id": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"'

option_case new-order-unknown acme-new-order '{"replace": "x"}' \
  'options.replace: unknown option for machine acme-new-order'
option_case new-order-nonce acme-new-order '{"nonce": "not a nonce!"}' \
  "options.nonce: 'not a nonce!' is not a base64url nonce"
option_case new-order-replaces-type acme-new-order '{"replaces": 7}' \
  'options.replaces: must be a string'
option_case new-order-advertised-type acme-new-order '{"renewal_info_advertised": "yes"}' \
  'options.renewal_info_advertised: must be true or false'
option_case new-order-identifiers acme-new-order '{"identifiers": []}' \
  'options.identifiers: must be a non-empty list'
option_case new-order-url acme-new-order '{"new_order_url": "https://acme.example/new-order"}' \
  "options.new_order_url: must be a path starting with '/'"
option_case new-order-nonce-url acme-new-order '{"new_nonce_url": "new-nonce"}' \
  "options.new_nonce_url: must be a path starting with '/'"
option_case new-order-bad-nonce-retries acme-new-order '{"max_bad_nonce_retries": 1.5}' \
  'options.max_bad_nonce_retries: must be a whole number from 0 to 100'
option_case poll-unknown acme-poll '{"retry_after_s": 3}' \
  'options.retry_after_s: unknown option for machine acme-poll'
option_case poll-kind acme-poll '{"kind": "certificate"}' \
  "options.kind: 'certificate' is not one of order, authz, challenge"
option_case poll-nonce acme-poll '{"nonce": "n=1"}' "options.nonce: 'n=1' is not a base64url nonce"
option_case poll-url acme-poll '{"url": "order/1"}' "options.url: must be a path starting with '/'"
option_case poll-first acme-poll '{"first_retry_after_s": -1}' 'options.first_retry_after_s:'
option_case poll-stretch acme-poll '{"stretch": 0.5}' 'options.stretch: must be between 1 and 10'
option_case poll-max-wait acme-poll '{"max_wait_s": -5}' 'options.max_wait_s:'
option_case ari-unknown ari-renewal "{$cid, \"retry_after_s\": 60}" \
  'options.retry_after_s: unknown option for machine ari-renewal'
option_case ari-both ari-renewal "{$cid, \"cert_pem\": \"cert.pem\"}" \
  'options.cert_id: give either cert_id or cert_pem'
option_case ari-neither ari-renewal '{}' 'options.cert_id: give either cert_id or cert_pem'
option_case ari-cert-id ari-renewal '{"cert_id": "a/b"}' 'options.cert_id: must be a CertID'
option_case ari-not-after ari-renewal "{$cid, \"not_after\": \"2025-03-01\"}" \
  "options.not_after: '2025-03-01' is not an RFC 3339 time"
option_case ari-now ari-renewal "{$cid, \"now\": \"yesterday\"}" "options.now: 'yesterday'"
option_case ari-pem-missing ari-renewal '{"cert_pem": "no-such.pem"}' \
  "options.cert_pem: cannot read '$tmp/no-such.pem'"
option_case ari-pem-unusable ari-renewal '{"cert_pem": "not-a-cert.pem"}' \
  "options.cert_pem: '$tmp/not-a-cert.pem' is not a usable certificate"
option_case ari-url ari-renewal "{$cid, \"renewal_info_url\": \"renewal-info\"}" \
  "options.renewal_info_url: must be a path starting with '/'"
option_case ari-min-max ari-renewal "{$cid, \"min_retry_after_s\": 600, \"max_retry_after_s\": 60}" \
  'options.min_retry_after_s / max_retry_after_s:'

# The new-order payloads (the JWS payload is the send line's body; `check` cannot see it).
# post_bodies FILE : the new-order POST lines of FILE's transcript, one per line, in $tmp/posts.
post_bodies() {
  run replay "$here/$1"
  expect_rc "$1" 0
  grep -F '"send":"POST /acme/new-order' "$tmp/out" >"$tmp/posts"
}
has_replaces() { grep -qF '"replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"' <<<"$1"; }

# Every POST carries replaces: the happy path, badNonce, rate limit and outage retries.
for f in acme-new-order-replaces-happy.json acme-new-order-bad-nonce-keeps-replaces.json \
  acme-new-order-bad-nonce-no-replay-nonce.json acme-new-order-bad-nonce-bound.json \
  acme-new-order-rate-limited.json acme-new-order-outage-keeps-replaces.json; do
  checked=$((checked + 1))
  post_bodies "$f"
  [ -s "$tmp/posts" ] || fail "$f: no new-order POST in the transcript"
  while IFS= read -r line; do
    has_replaces "$line" || fail "$f: a new-order POST lacks replaces: $line"
  done <"$tmp/posts"
done
# No POST carries replaces: the directory does not advertise renewalInfo.
checked=$((checked + 1))
post_bodies acme-new-order-not-advertised.json
grep -qF '"replaces"' "$tmp/posts" && fail "acme-new-order-not-advertised.json: replaces was sent"
# Every fallback: the first POST carries replaces, the last one (after the fallback) does not.
for f in "$here"/acme-new-order-fallback-*.json acme-new-order-second-rejection.json; do
  f=$(basename "$f")
  checked=$((checked + 1))
  post_bodies "$f"
  [ "$(wc -l <"$tmp/posts")" -eq 2 ] || fail "$f: wanted 2 new-order POSTs"
  has_replaces "$(head -n 1 "$tmp/posts")" || fail "$f: the first POST lacks replaces"
  grep -qF '"replaces"' <<<"$(tail -n 1 "$tmp/posts")" &&
    fail "$f: the POST after the fallback still carries replaces"
done

# outcome_has FILE TEXT : FILE replays (exit 0) and its outcome line contains TEXT.
outcome_has() {
  checked=$((checked + 1))
  run replay "$here/$1"
  expect_rc "$1" 0
  tail -n 1 "$tmp/out" | grep -qF -- "$2" || fail "$1: outcome line lacks '$2'"
}
# A rate limit past the deadline: still_pending, not before the server's Retry-After (3600 s).
outcome_has acme-new-order-rate-limit-beyond-deadline.json '"not_before":"2025-01-01T01:00:00Z"'
# The new-order payload carries profile, notBefore and notAfter (RFC 8555 §7.4) when asked.
checked=$((checked + 1))
run replay "$here/acme-new-order-profile.json"
grep -qF '"body":{"identifiers":[{"type":"dns","value":"example.com"}],"profile":"shortlived","notBefore":"2025-01-01T00:00:00Z","notAfter":"2025-01-07T00:00:00Z","replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"}' "$tmp/out" ||
  fail "acme-new-order-profile.json: the POST lacks profile, notBefore, notAfter or replaces"
option_case new-order-profile-space acme-new-order '{"profile": "short lived"}' \
  'options.profile: must be a profile name: 1 to 64 printable ASCII characters, no space'
# A 3 h rateLimited hint past a 2 h deadline and the 1 h ceiling: not_before is the uncut 3 h.
outcome_has acme-new-order-rate-limit-hours-past-deadline.json '"not_before":"2025-01-01T03:00:00Z"'
# renew_at: not_before is the renewal time picked, now, or the last poll before notAfter.
outcome_has ari-renewal-window-future.json '"outcome":"renew_at","sends":4,'
outcome_has ari-renewal-window-future.json '"not_before":"2025-01-01T13:54:31.088Z"'
grep -qF '"event":"renewal-time","why":"window 2025-01-01T12:00:00Z to 2025-01-01T18:00:00Z; explanation: https://acme.example/docs/ari","at":"2025-01-01T13:54:31.088Z"}' \
  "$tmp/out" || fail "ari-renewal-window-future.json: no renewal-time event with at 13:54:31.088Z"
outcome_has ari-renewal-window-past.json '"not_before":"2025-01-01T00:00:00Z"'
outcome_has ari-renewal-expired.json '"not_before":"2025-01-01T00:00:00Z"'
outcome_has ari-renewal-not-after-first.json '"not_before":"2025-01-01T08:00:00Z"'
outcome_has ari-renewal-window-moved.json '"not_before":"2025-01-01T07:21:39.739Z"'
grep -c '"event":"renewal-time"' "$tmp/out" | grep -qx 2 ||
  fail "ari-renewal-window-moved.json: wanted two renewal-time events"

# The renewal time depends on the seed (and only on it): seeds 1 and 3 pick different times.
checked=$((checked + 1))
sed 's/"seed": 1,/"seed": 3,/' "$here/ari-renewal-window-future.json" >"$tmp/ari-seed-3.json"
run replay "$here/ari-renewal-window-future.json"
at1=$(grep -o '"at":"[^"]*"' "$tmp/out")
run replay "$tmp/ari-seed-3.json"
at3=$(grep -o '"at":"[^"]*"' "$tmp/out")
{ [ -n "$at1" ] && [ -n "$at3" ]; } || fail "ari seeds: no renewal-time at in the transcripts"
[ "$at1" != "$at3" ] || fail "ari seeds: seeds 1 and 3 picked the same renewal time ($at1)"
run replay "$tmp/ari-seed-3.json"
[ "$(grep -o '"at":"[^"]*"' "$tmp/out")" = "$at3" ] || fail "ari seeds: seed 3 is not repeatable"

# --help: exit 0 and the machines.
checked=$((checked + 1))
run --help
expect_rc --help 0
grep -q '^machines: .*async-poll' "$tmp/out" || fail "--help does not list the machines"
grep -q '^machines: acme-new-order, acme-poll, acme-post, ari-renewal, ' "$tmp/out" ||
  fail "--help does not list the ACME machines"
# No arguments: usage on stderr, exit 2.
run
expect_rc "no arguments" 2
expect_err "no arguments" 'usage:'

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: $checked error-path checks"
