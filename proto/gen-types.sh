#!/usr/bin/env bash
# Generates TypeScript types for the Envoy API messages into src/generated/ (git-ignored,
# never hand-edited). The builders in src/translation are typed against them, so a
# misspelt field fails the compile instead of vanishing.
#
# The API comes as a FileDescriptorSet (proto/gen-descriptors.sh), and
# proto-loader-gen-types reads only .proto or protobufjs JSON files. So the set is loaded
# the way the server loads it (src/xds/protos.ts, compiled on its own) and written out as
# protobufjs JSON, which proto-loader-gen-types then reads. See docs/decisions.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash proto/gen-descriptors.sh
out=src/generated
stamp="$out/.stamp"
want="$(cat proto/generated/envoy-api.binpb src/xds/protos.ts package-lock.json | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
tmp=.local/gen-types
rm -rf "$tmp" "$out"
node_modules/.bin/tsc --outDir "$tmp" --rootDir . --module commonjs --target es2022 --strict --skipLibCheck \
  src/xds/protos.ts src/util/repo-root.ts
node -e '
  const root = require(process.argv[1]).envoyApiRoot();
  require("node:fs").writeFileSync(process.argv[2], JSON.stringify(root.toJSON()));
' "./$tmp/src/xds/protos.js" "$tmp/envoy-api.json"
node_modules/.bin/proto-loader-gen-types --keepCase --longs=String --enums=String \
  --defaults --oneofs --grpcLib=@grpc/grpc-js --outDir="$out" "$tmp/envoy-api.json" >/dev/null
# The loader shim at the top level (named after the input, envoy-api.json) is for
# grpc.loadPackageDefinition, which we do not use; only the message types are imported.
rm -f "$out"/*.ts "$out/envoy-api.json"
rm -rf "$tmp"
echo "$want" > "$stamp"
