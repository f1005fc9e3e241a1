#!/usr/bin/env bash
# `tokensmith test` on a file of 10 tests, each against its own fresh
# in-process dev cluster, vs the same 10 test bodies as 10 `tokensmith --dev
# run` invocations (what one would script without `tokensmith test`; these
# share one persistent dev cluster, so they are not even isolated).
# Prints the medians of 5 rounds and the ratio. Target: the 10 tests < 2 s
# on 2 cores.
#   benches/script_test.sh            # release build
#   PROFILE=debug benches/script_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
BIN="$PWD/target/$profile/tokensmith"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_STATE_HOME="$work/state"
mkdir -p "$HOME" "$work/runs"

body() { # the body of test $1: create, read back, list, delete
  cat <<RHAI
    let t = token::create(#{ ttl: "1h", description: "case $1" });
    if token::get(t.id).description != "case $1" { throw "read back failed" }
    if !token::list().some(|x| x.id == t.id) { throw "not listed" }
    token::delete(t);
    if token::get(t.id) != () { throw "not deleted" }
RHAI
}
for i in $(seq 0 9); do
  { echo "fn test_case_$i() {"; body "$i"; echo "}"; echo; } >>"$work/ten_test.rhai"
  body "$i" >"$work/runs/case_$i.rhai"
done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
round_test() {
  local s; s=$(now)
  "$BIN" test "$work/ten_test.rhai" >"$work/out.txt" || { cat "$work/out.txt"; exit 1; }
  echo "$(now) - $s" | bc
}
round_run() {
  local s; s=$(now)
  for i in $(seq 0 9); do "$BIN" --dev run "$work/runs/case_$i.rhai" >/dev/null; done
  echo "$(now) - $s" | bc
}
round_run >/dev/null # first --dev start creates its CA and state
t=$(for _ in 1 2 3 4 5; do round_test; done | median)
r=$(for _ in 1 2 3 4 5; do round_run; done | median)
printf 'profile %s, %s cores\n' "$profile" "$(nproc)"
printf 'tokensmith test, 10 tests (10 fresh dev clusters): %.3f s\n' "$t"
printf '10 x tokensmith --dev run (one shared dev cluster): %.3f s\n' "$r"
printf 'ratio test/run: %.2f\n' "$(echo "$t / $r" | bc -l)"
