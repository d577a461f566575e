#!/usr/bin/env bash
# Drives `certretry-harness serve --model tpp` with nothing but the curl command-line tool
# through a stuck renewal ("click Retry" -> reset -> request -> retrieve), so that any client,
# in any language, can be tested against the server models. Then bad input (unknown path,
# malformed HTTP, a body over the limit) answers 4xx while the server keeps serving, and SIGTERM
# stops it cleanly with nothing left listening.
#
# usage: serve_tpp_curl.sh PATH/TO/certretry-harness
# Everything listens on 127.0.0.1 only; every wait is bounded; the server never outlives this.
set -u

harness=${1:?usage: serve_tpp_curl.sh PATH/TO/certretry-harness}
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl is needed" >&2; exit 1; }

tmp=$(mktemp -d)
serve_pid=
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null
    sleep 0.2
    kill -KILL "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

fail() {
  echo "FAIL: $*" >&2
  [ -f "$tmp/requests.jsonl" ] && { echo "--- request log" >&2; cat "$tmp/requests.jsonl" >&2; }
  [ -f "$tmp/stderr" ] && { echo "--- serve stderr" >&2; cat "$tmp/stderr" >&2; }
  exit 1
}

# One stuck object (its last enrollment failed); every request on it gives "click Retry";
# issuance is immediate, so the retrieve after the reset and new request has the certificate.
"$harness" serve --model tpp --port 0 --tpp-objects 1 --tpp-stuck 1 --tpp-click-retry 1 \
  --tpp-mean-issuance 0 --log "$tmp/requests.jsonl" >"$tmp/stdout" 2>"$tmp/stderr" &
serve_pid=$!
for _ in $(seq 1 100); do  # 10 s at most
  [ -s "$tmp/stdout" ] && break
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited at start"
  sleep 0.1
done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/stdout" | head -n 1)
[ -n "$port" ] || fail "serve printed no port: $(cat "$tmp/stdout")"
base="http://127.0.0.1:$port"
echo "serve pid $serve_pid on $base"

dn='\\VED\\Policy\\certretry\\cert-1'
requests=0
# call PATH BODY: POSTs JSON, leaves the status in $code and the reply in $tmp/body.
call() {
  requests=$((requests + 1))
  code=$(curl -sS --noproxy '*' --max-time 5 -o "$tmp/body" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "$2" "$base$1") ||
    fail "curl could not reach $base$1"
}
expect() {  # expect CODE TEXT STEP
  [ "$code" = "$1" ] || fail "$3: status $code, expected $1: $(cat "$tmp/body")"
  grep -q -- "$2" "$tmp/body" || fail "$3: the reply lacks '$2': $(cat "$tmp/body")"
  echo "ok  $3 -> $code"
}

call /vedsdk/certificates/request "{\"CertificateDN\":\"$dn\"}"
expect 200 '"Guid"' "request (accepted, yet blocked by the failed enrollment)"
call /vedsdk/certificates/retrieve "{\"CertificateDN\":\"$dn\"}"
expect 500 'click Retry' "retrieve (stuck)"
call /vedsdk/certificates/reset "{\"CertificateDN\":\"$dn\",\"Restart\":false}"
expect 200 '"ProcessingResetCompleted":true' "reset(Restart=false)"
call /vedsdk/certificates/request "{\"CertificateDN\":\"$dn\"}"
expect 200 '"Guid"' "request again"
call /vedsdk/certificates/retrieve "{\"CertificateDN\":\"$dn\"}"
expect 200 '"CertificateData"' "retrieve (issued)"

# Bad input answers 4xx, and the server goes on serving.
call /no/such/endpoint '{}'
expect 404 'No resource' "unknown path"
reply=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf 'THIS IS NOT HTTP\r\n\r\n' >&3; cat <&3") 
case "$reply" in
  "HTTP/1.1 400"*) echo "ok  malformed HTTP -> 400" ;;
  *) fail "malformed HTTP got: $reply" ;;
esac
head -c 2000000 /dev/zero | tr '\0' 'x' >"$tmp/big"
code=$(curl -sS --noproxy '*' --max-time 5 -o "$tmp/body" -w '%{http_code}' -H 'Expect:' \
  --data-binary @"$tmp/big" "$base/vedsdk/certificates/request") || fail "curl: big body"
[ "$code" = 413 ] || fail "a 2 MB body got $code, expected 413"
echo "ok  2 MB body -> 413"
call /vedsdk/certificates/retrieve "{\"CertificateDN\":\"$dn\"}"
expect 200 '"CertificateData"' "still serving after bad input"

# SIGTERM: exit 0, the log complete, nothing listening.
kill -TERM "$serve_pid"
for _ in $(seq 1 50); do  # 5 s at most
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$serve_pid" 2>/dev/null && fail "serve did not stop within 5 s of SIGTERM"
wait "$serve_pid"
rc=$?
serve_pid=
[ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  fail "something still listens on $port"
fi
logged=$(grep -c '"method"' "$tmp/requests.jsonl")
refused=$(grep -c '"error"' "$tmp/requests.jsonl")
[ "$logged" -eq "$requests" ] || fail "$requests requests made, $logged logged"
[ "$refused" -eq 2 ] || fail "2 refusals expected in the log (400, 413), found $refused"
grep -q '"stopped":true' "$tmp/stderr" || fail "no summary on stop: $(cat "$tmp/stderr")"
echo "PASS: stuck renewal recovered with curl alone; $logged requests and $refused refusals logged"
