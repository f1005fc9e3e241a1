#!/usr/bin/env bash
# Start-up cost, side by side in one run: `tokensmith token generate` vs `true`
# (the process start-up floor), target <= 2x. Also prints what explains the
# difference: load-time relocations and the binary's size.
#   benches/startup.sh [BINARY]     (default: a fresh `cargo ship`, the shipped binary)
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need python3 python3

if [ $# -ge 1 ]; then
  BIN=$1
else
  cargo -q ship
  BIN="$PWD/target/release/tokensmith"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Alternately, 1,000 pairs: a machine's speed drifts over the seconds a
# batch of one and then a batch of the other would take.
read -r t k < <(benches/alternate.py 1000 "$BIN token generate" true)
printf 'start-up: tokensmith token generate %.2f ms, true %.2f ms, ratio %.2f (target <= 2)\n' \
  "$t" "$k" "$(echo "$t/$k" | bc -l)"
relocs=$(readelf -rW "$BIN" | grep -c '^[0-9a-f]' || true)
type=$(readelf -hW "$BIN" | awk '/Type:/ {print $2}')
link=$(readelf -lW "$BIN" | grep -q INTERP && echo "dynamically linked" || echo "statically linked")
printf 'binary: %s, %s, %d bytes, %d load-time relocations\n' "$type" "$link" "$(stat -c %s "$BIN")" "$relocs"
# CPU time is steadier than wall time on a shared machine: perf's task-clock.
if command -v perf >/dev/null 2>&1; then
  clock() { perf stat -r 300 -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
  ct=$(clock "$BIN" token generate); cf=$(clock true)
  printf 'start-up CPU (task-clock): tokensmith %.2f ms, true %.2f ms, ratio %.2f (target <= 2)\n' "$ct" "$cf" "$(echo "$ct/$cf" | bc -l)"
fi
