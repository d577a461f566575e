#!/usr/bin/env bash
# Runs an example against `certretry-harness serve` and compares its output with a file:
#   run_against_serve.sh HARNESS EXPECTED EXAMPLE [EXAMPLE_ARGS...] -- SERVE_ARGS...
# serve listens on a free 127.0.0.1 port (--port 0); the example gets http://127.0.0.1:PORT as
# its first argument. The server is stopped on every exit; each step is bounded in time.
set -u
harness=$1 expected=$2
shift 2
example=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do example+=("$1"); shift; done
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

"$harness" serve --port 0 --log "$tmp/requests.jsonl" "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$tmp/serve.out" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "serve exited: $(cat "$tmp/serve.err")" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -n 1)
[ -n "$port" ] || { echo "serve printed no port" >&2; exit 1; }

no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 timeout 120 "${example[0]}" "http://127.0.0.1:$port" \
  "${example[@]:1}" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || ! diff -u "$expected" "$tmp/out"; then
  echo "example exited $rc" >&2
  echo "--- stdout" >&2; cat "$tmp/out" >&2
  echo "--- stderr" >&2; cat "$tmp/err" >&2
  echo "--- serve's request log" >&2; cat "$tmp/requests.jsonl" >&2
  exit 1
fi
cat "$tmp/out"
