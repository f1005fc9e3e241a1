#!/usr/bin/env bash
# Requests/s of the dev cluster for a create+get+list+delete mix of Secrets,
# over 1 keep-alive connection and over 16 concurrent connections, measured
# with the real kube client (benches/devcluster.rs: server + client cost) and
# with wrk (benches/devcluster.lua: mostly server cost), in release mode.
#
#   benches/devcluster.sh            # in-memory server
#   BENCH_STATE=1 benches/devcluster.sh   # with --state (fsync on every write)
#   BENCH_SECONDS=10 (default)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y wrk >/dev/null
fi

cargo build --release --bin tokensmith
cargo bench --bench devcluster --no-run 2>/dev/null

work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

state_args=()
[ "${BENCH_STATE:-0}" = "1" ] && state_args=(--state "$work/state.json")
target/release/tokensmith dev-cluster --listen 127.0.0.1:0 --kubeconfig-out "$work/admin.kubeconfig" \
  "${state_args[@]}" >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q "serving at" "$work/out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^dev cluster serving at //p' "$work/out")"
token="$(sed -n 's/^ *token: //p' "$work/admin.kubeconfig")"
echo "server: $url (state: ${BENCH_STATE:-0}), ${SECONDS_PER_RUN}s per run, $(nproc) cores"

# The benchmark namespace (409 if it exists is fine).
curl -sk -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}' "$url/api/v1/namespaces"

KUBECONFIG="$work/admin.kubeconfig" BENCH_SECONDS="$SECONDS_PER_RUN" cargo bench --bench devcluster 2>/dev/null

for c in 1 16; do
  out="$(RUN="$c" TOKEN="$token" wrk -t"$c" -c"$c" -d"${SECONDS_PER_RUN}s" -s benches/devcluster.lua "$url")"
  rps="$(echo "$out" | sed -n 's/^Requests\/sec: *//p')"
  printf 'wrk,         %2d connection(s): %8.0f requests/s (%s)\n' "$c" "$rps" "$(echo "$out" | grep '^wrk:')"
done
