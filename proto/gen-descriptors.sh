#!/usr/bin/env bash
# Writes the Envoy 1.40 API that mqtt-xds loads as one FileDescriptorSet,
# proto/generated/envoy-api.binpb (git-ignored, never hand-edited), with tools/envoy-api:
# a Go program that takes the descriptors embedded in go-control-plane's generated code
# (the module ships no .proto sources). Skipped when its inputs are unchanged. The Go
# caches live under ${XDG_CACHE_HOME:-~/.cache}/mqtt-xds/go, beside setup-kube's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=proto/generated/envoy-api.binpb
stamp=proto/generated/.stamp
want="$(cat tools/envoy-api/go.mod tools/envoy-api/go.sum tools/envoy-api/main.go proto/api-files.json | sha256sum | cut -c1-16)"
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

die() { echo "gen-descriptors: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "'go' not found: install Go $(sed -n 's/^go //p' tools/envoy-api/go.mod) or newer (tools/envoy-api builds the Envoy API descriptors)"
cache="${XDG_CACHE_HOME:-${HOME}/.cache}/mqtt-xds/go"
echo "gen-descriptors: building the Envoy API descriptor set (tools/envoy-api)" >&2
# GOTOOLCHAIN=local: a Go older than go.mod's fails with a clear message instead of trying
# to download a toolchain. go.sum is committed, so -mod=readonly (the default) suffices.
(cd tools/envoy-api &&
  env GOMODCACHE="${cache}/mod" GOCACHE="${cache}/build" GOTOOLCHAIN=local \
    go run -buildvcs=false . ../../proto/api-files.json "../../${out}") ||
  die "tools/envoy-api failed (see above)"
echo "$want" > "$stamp"
