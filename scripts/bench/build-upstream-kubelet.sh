#!/usr/bin/env bash
# Builds the upstream kubelet at the testbed's pinned Kubernetes version, for benchmarks only
# (the baseline of bench:pods). Cached under /var/cache/ledgerlet/upstream; rebuilt when the pin changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -nE 's/^[[:space:]]*(require )?k8s\.io\/kubernetes (v[^ ]+).*/\2/p' "$here/testbed/k8s/go.mod" | head -1)
out=/var/cache/ledgerlet/upstream/kubelet-$version
[ -x "$out" ] && { echo "$out"; exit 0; }
work=/var/cache/ledgerlet/upstream/src-$version
mkdir -p "$work"
cp "$here/testbed/k8s/go.mod" "$here/testbed/k8s/go.sum" "$work/"
cd "$work"
sed -i 's#^module .*#module ledgerlet.local/bench/upstream-kubelet#' go.mod
grep -q 'k8s.io/kubernetes/cmd/kubelet' go.mod || sed -i 's#^tool (#tool (\n\tk8s.io/kubernetes/cmd/kubelet#' go.mod
go mod tidy >&2
minor=$(echo "$version" | cut -d. -f2)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
go build -trimpath -ldflags "$ld" -o "$out" k8s.io/kubernetes/cmd/kubelet >&2
echo "$out"
