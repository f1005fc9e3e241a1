#!/usr/bin/env bash
# Builds the upstream programs the upstream test tier runs against, pinned by go.mod:
# kubeadm, kube-apiserver, etcd and bootstrap-controllers (the upstream bootstrapsigner,
# tokencleaner, csrapproving and csrsigning controllers; see controllers/main.go).
# `build.sh kube-controller-manager` builds the full controller manager as well.
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/tokensmith/upstream/v1.37.2/<name>.
# A binary is rebuilt only when the hash of go.mod, go.sum and this module's own
# sources changes, so a warm run costs well under a second.
#
# Usage: bash tests/upstream/build.sh [name...]   (default: kubeadm etcd kube-apiserver bootstrap-controllers)
#        bash tests/upstream/build.sh --print-dir
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=v1.37.2
out=${TOKENSMITH_UPSTREAM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tokensmith/upstream/$version}

if [[ ${1:-} == --print-dir ]]; then
    echo "$out"
    exit 0
fi

die() { echo "tests/upstream/build.sh: error: $*" >&2; exit 1; }

# The go line of go.mod is the oldest toolchain that can build kubernetes $version.
need_go=$(awk '$1 == "go" { print $2; exit }' "$here/go.mod")
go_bin=$(command -v go || true)
if [[ -z $go_bin && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
[[ -n $go_bin ]] || die "Go is missing: install Go >= $need_go (not found on PATH nor at /usr/local/go/bin/go)"
# GOTOOLCHAIN=local: an old Go must fail here with this message, not fetch another toolchain.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
have_go=$("$go_bin" env GOVERSION) || die "$go_bin does not run"
have_go=${have_go#go}
oldest=$(printf '%s\n%s\n' "$need_go" "${have_go%%[-+ ]*}" | sort -V | head -n1)
[[ $oldest == "$need_go" ]] || die "Go $have_go at $go_bin is too old: tests/upstream/go.mod needs Go >= $need_go"

declare -A pkg=(
    [kubeadm]=k8s.io/kubernetes/cmd/kubeadm
    [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
    [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
    [etcd]=go.etcd.io/etcd/server/v3
    [bootstrap-controllers]=./controllers
)
# Where each is built: etcd v3.6 from its own module (etcd/go.mod), since
# kubernetes v1.37.2 lifts etcd to v3.7 in this module's graph.
declare -A moddir=([etcd]=etcd)
# kubeadm first: the differential tests need only it.
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(kubeadm etcd kube-apiserver bootstrap-controllers)
for n in "${names[@]}"; do
    [[ -n ${pkg[$n]:-} ]] || die "unknown program '$n' (known: ${!pkg[*]})"
done

# What kubernetes' hack/lib/version.sh stamps: without it the programs call
# themselves v0.0.0-master, and kubeadm refuses a v1.37.2 control plane. (No
# gitCommit: a module download carries none.)
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

key=$(cat "$here/go.mod" "$here/go.sum" "$here/etcd/go.mod" "$here/etcd/go.sum" "$here/controllers/main.go" "$here/build.sh" | sha256sum | cut -c1-16)
mkdir -p "$out" || die "cannot create $out"
cd "$here"
for n in "${names[@]}"; do
    stamp="$out/.$n.stamp"
    if [[ -x $out/$n && -f $stamp && $(<"$stamp") == "$key" ]]; then
        echo "upstream: $n up to date ($out/$n)"
        continue
    fi
    echo "upstream: building $n ($version, ${pkg[$n]}) with Go $have_go ..."
    start=$SECONDS
    # -s -w and -trimpath: smaller binaries, and the cache directory's path stays out of them.
    if ! (cd "$here/${moddir[$n]:-.}" && "$go_bin" build -trimpath -ldflags="$ldflags" -o "$out/.$n.tmp" "${pkg[$n]}"); then
        rm -f "$out/.$n.tmp"
        die "go build of $n (${pkg[$n]}) failed; see the compiler output above"
    fi
    mv -f "$out/.$n.tmp" "$out/$n"
    echo "$key" >"$stamp"
    echo "upstream: built $n in $((SECONDS - start))s -> $out/$n"
done
