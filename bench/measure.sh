#!/usr/bin/env bash
# Runs the README's measurements in one go (Release build) and keeps the raw output in bench/results-<UTC time>.txt.
# Takes about four minutes; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Identity.Bench -v quiet -nologo >/dev/null
bench=bench/Identity.Bench/bin/Release/net10.0/Identity.Bench.dll
out="bench/results-$(date -u +%Y%m%dT%H%MZ).txt"

run() {
  echo "=== $* | $(uptime)"
  dotnet "$bench" "$@" 2>&1 || echo "(exit code $?: see the errors above)"
  echo
}

server_and_client() { # server flags... -- client flags...
  local server_args=() client_args=()
  while [[ $1 != -- ]]; do server_args+=("$1"); shift; done; shift
  client_args=("$@")
  local log; log=$(mktemp)
  dotnet "$bench" --server-only "${server_args[@]}" >"$log" 2>&1 &
  local server=$!
  for _ in $(seq 60); do grep -q '^client:' "$log" && break; sleep 0.5; done
  # The printed client command names the endpoint, the token signing key and the server's pid.
  local -a client; read -r -a client <<<"$(sed -n 's/^client: dotnet [^ ]* //p' "$log")"
  echo "=== server-only ${server_args[*]} + client ${client_args[*]} | $(uptime)"
  dotnet "$bench" "${client[@]}" "${client_args[@]}" 2>&1 || true
  kill -TERM "$server"; wait "$server" || true
  cat "$log"; rm -f "$log"
  echo
}

{
  run --self-host
  run --self-host --accept-all
  run --self-host --cold --breakdown
  run --self-host --warmup 0 --duration 5   # just started: tier-0 JIT code, to show why the others warm up
  # The audit trail on, as `identity serve` logs at info: written to the console and dropped here by grep.
  run --self-host --audit-log | grep -Ev '^(info: |      )' || true
  server_and_client -- --duration 10
  server_and_client -- --cold
} | tee "$out"
echo "raw output: $out"
