#!/usr/bin/env bash
# The upstream tier in one command: build (or reuse) real kubeadm, kube-apiserver,
# etcd and the upstream bootstrap controllers (tests/upstream/build.sh), then run
# every tests/upstream_*.rs test against them. Those tests are #[ignore]d so the
# plain `cargo test` stays hermetic; here they run with --ignored.
#
# Usage: bash tests/upstream/run.sh [extra libtest args, e.g. a test name filter]
# Ends with "upstream tier: N passed, N failed"; exits non-zero when a build or a test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

start=$SECONDS
bash tests/upstream/build.sh
echo "upstream: binaries ready after $((SECONDS - start))s"

targets=()
for f in tests/upstream_*.rs; do
    [[ -e $f ]] || continue
    n=${f#tests/}
    targets+=(--test "${n%.rs}")
done
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "tests/upstream/run.sh: error: no tests/upstream_*.rs test files" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# Two clusters at a time: each is an etcd and a kube-apiserver, CPU-heavy while starting.
cargo test --no-fail-fast "${targets[@]}" -- --ignored --test-threads=2 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "upstream tier: %d passed, %d failed\n", p, f }' "$log"
echo "upstream: tier finished after $((SECONDS - start))s"
exit "$status"
