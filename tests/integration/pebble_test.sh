#!/usr/bin/env bash
# Issues 5 certificates from a real ACME server, Debian's Pebble, with examples/acme_pebble, and
# checks that each chains to Pebble's root. Pebble rejects 30 % of good nonces, so every
# machine's badNonce recovery (RFC 8555 §6.5) is exercised many times per run.
#
# usage: pebble_test.sh PATH/TO/acme_pebble
# Exit 77 (skipped) when pebble is not installed. Everything listens on 127.0.0.1 only.
set -u

client=${1:?usage: pebble_test.sh PATH/TO/acme_pebble}
count=5

if ! command -v pebble >/dev/null 2>&1; then
  echo "SKIP: pebble is not installed (Debian: apt-get install pebble)"
  exit 77
fi
for tool in openssl curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool is needed" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
pebble_pid=
client_pid=
cleanup() {
  if [ -n "$client_pid" ]; then
    kill "$client_pid" 2>/dev/null
    wait "$client_pid" 2>/dev/null
  fi
  if [ -n "$pebble_pid" ] && kill -0 "$pebble_pid" 2>/dev/null; then
    kill "$pebble_pid" 2>/dev/null
    wait "$pebble_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP  # through the EXIT trap, so Pebble never outlives the test

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$tmp/pebble.log" ]; then
    echo "--- pebble log (last 30 lines)" >&2
    tail -n 30 "$tmp/pebble.log" >&2
  fi
  exit 1
}

# Pebble ships no TLS key pair: make one for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$tmp/tls-key.pem" -out "$tmp/tls-cert.pem" >"$tmp/openssl.log" 2>&1 ||
  fail "openssl could not make the TLS key pair: $(cat "$tmp/openssl.log")"

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return; }
  done
}

# Starts Pebble on two free loopback ports and waits (20 s at most) for its directory. Another
# process may take a port between the check and Pebble's bind: then Pebble exits and we retry.
start_pebble() {
  acme_port=$(free_port)
  mgmt_port=$(free_port)
  [ "$acme_port" != "$mgmt_port" ] || return 1
  cat >"$tmp/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$mgmt_port",
    "certificate": "$tmp/tls-cert.pem",
    "privateKey": "$tmp/tls-key.pem",
    "httpPort": 5002,
    "tlsPort": 5001,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
  # Always-valid challenges without sleeps keep the run short; 30 % of good nonces rejected.
  PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=30 \
    pebble -config "$tmp/pebble-config.json" >"$tmp/pebble.log" 2>&1 &
  pebble_pid=$!
  local waited=0
  while [ "$waited" -lt 100 ]; do  # 100 x 0.2 s
    if ! kill -0 "$pebble_pid" 2>/dev/null; then
      wait "$pebble_pid" 2>/dev/null
      pebble_pid=
      return 1
    fi
    if curl -fsS --cacert "$tmp/tls-cert.pem" "https://127.0.0.1:$acme_port/dir" \
      -o /dev/null 2>/dev/null; then
      return 0
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  return 2
}

started=0
for attempt in 1 2 3 4 5; do
  start_pebble
  rc=$?
  if [ "$rc" -eq 0 ]; then
    started=1
    break
  fi
  [ "$rc" -eq 2 ] && fail "pebble did not answer on 127.0.0.1:$acme_port within 20 s"
  echo "pebble could not start (attempt $attempt), trying other ports"
done
[ "$started" -eq 1 ] || fail "pebble could not start on free loopback ports"
echo "pebble pid $pebble_pid on 127.0.0.1:$acme_port (management $mgmt_port)"

# A per-request bound of 3 badNonce retries fails one request in 0.3^4 = 0.8 %, so ~40 signed
# POSTs would fail the whole run about 28 % of the time; with 10 it is 0.3^11 x 40 < 0.01 %.
# `timeout` keeps the run inside ctest's TIMEOUT, so that this script, not ctest, stops Pebble.
out="$tmp/out"
# In the background, so that a signal to this script is handled at once (wait returns).
timeout 90 "$client" --directory "https://127.0.0.1:$acme_port/dir" --ca-file "$tmp/tls-cert.pem" \
  --count "$count" --out-dir "$out" --bad-nonce-retries 10 >"$tmp/client.log" 2>&1 &
client_pid=$!
wait "$client_pid"
client_rc=$?
client_pid=
cat "$tmp/client.log"
[ "$client_rc" -eq 0 ] || fail "acme_pebble exited $client_rc"

summary=$(grep '^certificates ' "$tmp/client.log" | tail -n 1)
field() { echo "$summary" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
certs=$(field certificates)
bad=$(field bad_nonce)
recovered=$(field recovered)
[ "$certs" = "$count" ] || fail "expected $count certificates, the summary says '$summary'"
[ -n "$bad" ] && [ "$bad" -ge 1 ] ||
  fail "Pebble rejects 30 % of nonces, yet no badNonce was seen: '$summary'"
[ "$recovered" = "$bad" ] || fail "not every badNonce was recovered: '$summary'"

# Pebble makes a new root and intermediate at each start; the management interface serves them.
curl -fsS --cacert "$tmp/tls-cert.pem" "https://127.0.0.1:$mgmt_port/roots/0" -o "$tmp/root.pem" ||
  fail "could not fetch Pebble's root"
for i in $(seq 1 "$count"); do
  pem="$out/cert$i.pem"
  [ -s "$pem" ] || fail "$pem is missing"
  # Split the downloaded chain (RFC 8555 §7.4.2): the leaf first, then its issuers.
  : >"$tmp/leaf.pem"
  : >"$tmp/chain.pem"
  awk -v leaf="$tmp/leaf.pem" -v chain="$tmp/chain.pem" '/-----BEGIN CERTIFICATE-----/ { n++ }
    n == 1 { print > leaf } n > 1 { print > chain }' "$pem"
  [ -s "$tmp/leaf.pem" ] || fail "$pem holds no certificate"
  if [ ! -s "$tmp/chain.pem" ]; then
    curl -fsS --cacert "$tmp/tls-cert.pem" "https://127.0.0.1:$mgmt_port/intermediates/0" \
      -o "$tmp/chain.pem" || fail "could not fetch Pebble's intermediate"
  fi
  openssl verify -CAfile "$tmp/root.pem" -untrusted "$tmp/chain.pem" "$tmp/leaf.pem" \
    >"$tmp/verify.log" 2>&1 || fail "cert$i does not chain to Pebble's root: $(cat "$tmp/verify.log")"
  openssl x509 -in "$tmp/leaf.pem" -noout -ext subjectAltName 2>/dev/null |
    grep -q "DNS:test$i.example.com" || fail "cert$i does not name test$i.example.com"
done

echo "PASS: $count certificates chain to Pebble's root; $summary"
