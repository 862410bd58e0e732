#!/usr/bin/env bash
# Restart storms against the shipped native `identity serve` in deploy/base's 256 MiB memory limit (a memory cgroup
# where this machine allows one, else the runtime's heap hard limit; the output says which). Publishes the binary
# first, keeps the raw output in bench/results-<UTC time>-storm.txt. Takes about five minutes on an idle machine.
#   bench/storm.sh [extra Identity.Bench storm flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet publish src/Identity.Cli -c Release -r linux-x64 -o "$work/aot" -v quiet -nologo >"$work/publish.log" 2>&1 \
  || { tail -30 "$work/publish.log"; exit 1; }
dotnet build -c Release bench/Identity.Bench -v quiet -nologo >/dev/null
bench=bench/Identity.Bench/bin/Release/net10.0/Identity.Bench.dll
out="bench/results-$(date -u +%Y%m%dT%H%MZ)-storm.txt"

run() {
  echo "=== $* | $(uptime)"
  # The server's own output (one audit line per certificate) is read by the bench; only its summary is printed.
  dotnet "$bench" --serve "$work/aot/identity" "$@" 2>&1 || echo "(exit code $?: not every proxy was certified, or the server went down)"
  echo
}

{
  run --storm fleet --connections 64 "$@"       # 20,000 proxies multiplexed over 64 connections, 10 s retry
  run --storm fleet --connections 0 "$@"        # 20,000 proxies, each call on its own connection (as linkerd2-proxy), 10 s retry
  run --storm fleet --connections 4000 "$@"     # 20,000 proxies over 4,000 connections held open, 10 s retry
  run --storm no-backoff --connections 64 "$@"  # the multiplexed fleet retrying at once
} | tee "$out"
echo "raw output: $out"
