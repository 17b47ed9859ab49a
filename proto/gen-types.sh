#!/usr/bin/env bash
# Generates TypeScript types for the Envoy API messages listed in api-files.json into
# src/generated/ (git-ignored, never hand-edited). The builders in src/translation are
# typed against them, so a misspelt field fails the compile instead of vanishing.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=node_modules/@grpc/grpc-js-xds/deps
mapfile -t files < <(node -e 'for (const f of require("./proto/api-files.json").files) console.log(f)')
mapfile -t dirs < <(node -e 'for (const d of require("./proto/api-files.json").includeDirs) console.log(process.argv[1] + "/" + d)' "$deps")
out=src/generated
stamp="$out/.stamp"
want="$(cat proto/api-files.json package-lock.json | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
rm -rf "$out"
node_modules/.bin/proto-loader-gen-types --keepCase --longs=String --enums=String \
  --defaults --oneofs --grpcLib=@grpc/grpc-js --outDir="$out" \
  --includeDirs "${dirs[@]}" -- "${files[@]}" >/dev/null
# The per-file loader shims at the top level are for grpc.loadPackageDefinition, which we
# do not use; only the message types are imported.
rm -f "$out"/*.ts
echo "$want" > "$stamp"
