#!/usr/bin/env bash
# Side-by-side wall time, in one run against one dev cluster:
#   tokensmith token list   vs  kubectl get secrets (same field selector), with 10 and 1,000 tokens
#   tokensmith token generate vs  true (process start-up floor)
# Reports hyperfine medians and the tokensmith/kubectl ratio (target: <= 0.5).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need hyperfine hyperfine
need kubectl kubernetes-client
need jq jq

cargo -q ship
BIN="$PWD/target/release/tokensmith"
work=$(mktemp -d)
"$BIN" dev-cluster --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" --state "$work/state.json" >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG="$work/kubeconfig"
# kubectl keeps a discovery cache; give it a private one so runs are comparable.
export HOME="$work/home"; mkdir -p "$HOME"

median() { jq -r ".results[$1].median" "$2"; }

have=0
for n in 10 1000; do
  need_more=$((n - have))
  seq "$need_more" | xargs -P 4 -I{} "$BIN" token create --ttl 2h --description "bench {}" >/dev/null
  have=$n
  out="$work/list-$n.json"
  hyperfine --style basic --warmup 3 --runs 20 --export-json "$out" \
    -n "tokensmith token list ($n)" "$BIN token list" \
    -n "kubectl get secrets ($n)" "kubectl get secrets -n kube-system --field-selector type=bootstrap.kubernetes.io/token" >/dev/null
  t=$(median 0 "$out"); k=$(median 1 "$out")
  printf 'list %5d tokens: tokensmith %.1f ms, kubectl %.1f ms, ratio %.2f\n' "$n" "$(echo "$t*1000" | bc -l)" "$(echo "$k*1000" | bc -l)" "$(echo "$t/$k" | bc -l)"
done

out="$work/generate.json"
hyperfine --style basic -N --warmup 10 --runs 200 --export-json "$out" \
  -n "tokensmith token generate" "$BIN token generate" -n "true" "true" >/dev/null
t=$(median 0 "$out"); k=$(median 1 "$out")
printf 'generate: tokensmith %.2f ms, true %.2f ms, ratio %.1f\n' "$(echo "$t*1000" | bc -l)" "$(echo "$k*1000" | bc -l)" "$(echo "$t/$k" | bc -l)"
