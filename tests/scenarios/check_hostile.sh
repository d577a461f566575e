#!/usr/bin/env bash
# The harness against hostile files and command lines (docs/harness.md, docs/limits.md):
#   - a run the options allow but nobody could read (a year of polls every second) stops at the
#     step cap with exit 4, its transcript streamed, in bounded memory; --max-steps and the
#     scenario's max_steps change the cap;
#   - files are checked before they are read: /dev/zero, a directory, a file over 4 MiB, a
#     missing file, a cert_pem of /dev/zero, a missing body_file: exit 2 with the reason;
#   - a key twice in any object of a scenario: exit 2 naming the key and the object;
#   - the command line: COMMAND --help, an unknown command, --version, a JSON error's position.
# usage: check_hostile.sh PATH/TO/certretry-harness
set -u

harness=${1:?usage: check_hostile.sh PATH/TO/certretry-harness}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir="$here/hostile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
checked=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
run() {
  checked=$((checked + 1))
  "$harness" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}
expect_rc() { [ "$rc" -eq "$2" ] || fail "$1: exit $rc, wanted $2 (stderr: $(head -c 300 "$tmp/err"))"; }
expect_err() { grep -qF -- "$2" "$tmp/err" || fail "$1: stderr lacks '$2' (stderr: $(head -c 300 "$tmp/err"))"; }
expect_out() { grep -qF -- "$2" "$tmp/out" || fail "$1: stdout lacks '$2' (stdout: $(head -c 300 "$tmp/out"))"; }
expect_no_out() { [ -s "$tmp/out" ] && fail "$1: printed on stdout: $(head -c 200 "$tmp/out")"; }

# --- 5. the step cap ---------------------------------------------------------------------------
# Without ASan (which reserves terabytes of address space), the run must fit in 1 GB: holding a
# year of transcript took 2.7 GB before it was streamed.
limit=""
grep -q __asan_init "$harness" || limit="ulimit -v 1048576;"
checked=$((checked + 1))
bash -c "$limit exec \"\$0\" replay \"\$1\"" "$harness" "$dir/year-of-polls.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc year-of-polls.json 4
expect_err year-of-polls.json 'year-of-polls.json: stopped after 1000000 steps (requests and waits), the step cap'
[ "$(grep -c '"send":' "$tmp/out")" -eq 500000 ] || fail "year-of-polls.json: wanted 500000 send lines"
[ "$(grep -c '"wait":' "$tmp/out")" -eq 500000 ] || fail "year-of-polls.json: wanted 500000 wait lines"
grep -q '"outcome"' "$tmp/out" && fail "year-of-polls.json: an outcome line after the step cap"

run replay --max-steps 3 "$dir/year-of-polls.json"
expect_rc "--max-steps 3" 4
[ "$(grep -cE '"send":|"wait":' "$tmp/out")" -eq 3 ] || fail "--max-steps 3: wanted 3 steps"
expect_err "--max-steps 3" 'stopped after 3 steps'
run replay "$dir/max-steps.json"
expect_rc max-steps.json 4
expect_err max-steps.json 'stopped after 3 steps'
run replay --max-steps 0 "$dir/max-steps.json"
expect_rc "--max-steps 0" 2
expect_err "--max-steps 0" '--max-steps needs a whole number from 1 to 1000000000'
run check --max-steps 2 "$here/async-generic-completed.json"
expect_rc "check --max-steps 2" 4
printf '{"machine": "async-poll", "max_steps": 0, "server": {"*": [{"status": 200}]}}\n' >"$tmp/zero.json"
run replay "$tmp/zero.json"
expect_rc "max_steps 0" 2
expect_err "max_steps 0" 'max_steps: must be a whole number from 1 to 1000000000'

# --- 6. files are checked before they are read -----------------------------------------------
run replay /dev/zero
expect_rc /dev/zero 2
expect_err /dev/zero '/dev/zero: larger than the 4 MiB limit of a scenario'
expect_no_out /dev/zero
run replay "$dir"
expect_rc directory 2
expect_err directory "$dir: is a directory"
run replay "$dir/no-such-scenario.json"
expect_rc "missing file" 2
expect_err "missing file" 'no-such-scenario.json: cannot open (No such file or directory)'
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$tmp/huge.json"
run replay "$tmp/huge.json"
expect_rc "4 MiB + 1" 2
expect_err "4 MiB + 1" 'huge.json: larger than the 4 MiB limit of a scenario'
run replay "$dir/cert-pem-dev-zero.json"
expect_rc cert-pem-dev-zero.json 2
expect_err cert-pem-dev-zero.json "options.cert_pem: cannot read '/dev/zero': larger than the 64 KiB limit of a certificate"
run replay "$dir/body-file-missing.json"
expect_rc body-file-missing.json 2
expect_err body-file-missing.json 'server["GET /orders/1"][0].body_file: '
expect_err body-file-missing.json 'no-such-body.bin: cannot open (No such file or directory)'
run replay "$dir/body-and-body-file.json"
expect_rc body-and-body-file.json 2
expect_err body-and-body-file.json 'server["GET /orders/1"][0]: give either body or body_file, not both'

# --- 8. duplicate keys -------------------------------------------------------------------------
dup_case() {
  run replay "$dir/$1"
  expect_rc "$1" 2
  expect_no_out "$1"
  expect_err "$1" "$2"
}
dup_case duplicate-top.json 'scenario: duplicate key "seed"'
dup_case duplicate-option.json 'options: duplicate key "id"'
dup_case duplicate-server-key.json 'server: duplicate key "GET /orders/1"'
dup_case duplicate-response-field.json 'server["*"][0]: duplicate key "status"'
dup_case duplicate-header.json 'server["*"][0].headers: duplicate key "Retry-After"'
dup_case duplicate-expect.json 'expect: duplicate key "outcome"'

# --- 9. the command line -----------------------------------------------------------------------
for cmd in replay check sweep; do
  run "$cmd" --help
  expect_rc "$cmd --help" 0
  expect_out "$cmd --help" 'usage:'
done
run options --help
expect_rc "options --help" 0
run frobnicate x.json
expect_rc "unknown command" 2
expect_err "unknown command" "unknown command 'frobnicate'"
run --version
expect_rc --version 0
grep -qE '^certretry-harness [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" || fail "--version: $(cat "$tmp/out")"
run replay --frobnicate "$dir/max-steps.json"
expect_rc "unknown option" 2
expect_err "unknown option" "unknown option '--frobnicate'"
run replay "$dir/json-error.json"
expect_rc json-error.json 2
expect_err json-error.json 'json-error.json: scenario: not valid JSON at line 2, column 34: expected a member name'

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: $checked hostile-input checks"
