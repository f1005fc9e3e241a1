#!/usr/bin/env bash
# The idle daemon and hot reload, with the shipped Rhai executor:
#   - resident memory and CPU time of `tokensmith watch` over 60 s with 50
#     scheduled scripts, none due in the window (targets: < 20 MiB, 0 CPU ticks);
#   - save-to-active reload latency: from renaming a changed script into place
#     to the daemon's "schedule changed" log line (target: < 300 ms).
# Usage: benches/watch_idle.sh [seconds]   (PROFILE=debug to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."

idle=${1:-60}
profile=${PROFILE:-release}
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
BIN="$PWD/target/$profile/tokensmith"

work=$(mktemp -d)
mkdir -p "$work/scripts"
# 50 daily jobs spread over the night: none is due during the measurement.
for i in $(seq 1 50); do
  cat >"$work/scripts/job$i.rhai" <<RHAI
//! schedule: $((i % 60)) $((1 + i % 4)) * * *
//! timezone: Europe/Berlin
//! overlap: skip
//! timeout: 5m
let tokens = token::list();
log::info("job $i sees " + tokens.len() + " tokens");
RHAI
done

RUST_LOG=info "$BIN" watch "$work/scripts" --kubeconfig "$work/none" --state-dir "$work/state" \
  --log-format json 2>"$work/daemon.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do grep -q '"scripts reloaded"' "$work/daemon.log" && break; sleep 0.05; done
grep -q '"scripts reloaded"' "$work/daemon.log" || { echo "daemon did not start:"; cat "$work/daemon.log"; exit 1; }
loaded=$(grep -c '"job loaded"' "$work/daemon.log")
sleep 1 # let start-up settle

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
sleep "$idle"
t1=$(ticks)
printf 'idle %ss, %s jobs loaded: RSS %.1f MiB, CPU %d ticks (%d ms at %d Hz)\n' \
  "$idle" "$loaded" "$(echo "$(rss_kib)/1024" | bc -l)" "$((t1 - t0))" "$(((t1 - t0) * 1000 / hz))" "$hz"

# Reload latency: change job7's schedule, save by rename, wait for the log line.
lat=()
for n in $(seq 1 10); do
  before=$(grep -c '"schedule changed"' "$work/daemon.log" || true)
  sed "s|^//! schedule: .*|//! schedule: $n 5 * * *|" "$work/scripts/job7.rhai" >"$work/scripts/.job7.tmp"
  start=$(date +%s%N)
  mv "$work/scripts/.job7.tmp" "$work/scripts/job7.rhai"
  for _ in $(seq 400); do
    [ "$(grep -c '"schedule changed"' "$work/daemon.log" || true)" -gt "$before" ] && break
    sleep 0.005
  done
  line=$(grep '"schedule changed"' "$work/daemon.log" | tail -n 1)
  at=$(echo "$line" | sed -E 's/.*"timestamp":"([^"]+)".*/\1/')
  end=$(date -d "$at" +%s%N)
  lat+=($(((end - start) / 1000000)))
  sleep 0.3
done
sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
printf 'reload save-to-active over %d saves: min %d ms, median %d ms, max %d ms\n' \
  "${#lat[@]}" "$(echo "$sorted" | head -n1)" "$(echo "$sorted" | sed -n 5p)" "$(echo "$sorted" | tail -n1)"
