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

# --help: exit 0 and the machines.
checked=$((checked + 1))
run --help
expect_rc --help 0
grep -q '^machines: .*async-poll' "$tmp/out" || fail "--help does not list the machines"
# No arguments: usage on stderr, exit 2.
run
expect_rc "no arguments" 2
expect_err "no arguments" 'usage:'

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: $checked error-path checks"
