# syntax=docker/dockerfile:1
# The mqtt-xds control plane image. Four stages:
#   api      the Envoy 1.40 API descriptor set, written by tools/envoy-api (Go) from the
#            pinned go-control-plane module (proto/gen-descriptors.sh);
#   build    all dependencies, compiles src/ to dist/src and the MQTT Wasm filter to
#            .local/wasm/mqtt-filter.wasm (npm run build:release);
#   deps     production dependencies only (npm ci --omit=dev);
#   runtime  Node.js, those dependencies, dist/src, proto/api-files.json, the descriptor
#            set (proto/generated/envoy-api.binpb), which the runtime loads, and the MQTT
#            filter, which it sends to Envoy when a policy turns it on; as user 10001.
# test/unit/packaging/dockerfile.test.ts checks these invariants; the
# deploy/ manifests run the image as user 10001 with a read-only root filesystem.
#
#   docker build -t registry.example/mqtt-xds:0.1.0 .

ARG NODE_IMAGE=node:20-bookworm-slim
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS api
WORKDIR /src
COPY tools/envoy-api ./tools/envoy-api
COPY proto/api-files.json proto/gen-descriptors.sh ./proto/
RUN bash proto/gen-descriptors.sh

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.release.json ./
COPY proto ./proto
# With its inputs beside it, npm run gen finds the descriptor set current and needs no Go.
COPY tools/envoy-api ./tools/envoy-api
COPY --from=api /src/proto/generated ./proto/generated
COPY src ./src
COPY ui ./ui
COPY wasm ./wasm
RUN npm run build:release

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# npm and corepack are not needed to run, only to install: leave them out of the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/ui ./dist/ui
COPY package.json ./
COPY proto/api-files.json ./proto/api-files.json
COPY --from=build /src/proto/generated/envoy-api.binpb ./proto/generated/envoy-api.binpb
COPY --from=build /src/.local/wasm/mqtt-filter.wasm ./.local/wasm/mqtt-filter.wasm
# Numeric, so Kubernetes' runAsNonRoot can check it; the same uid the manifests set.
USER 10001:10001
# xDS (gRPC) and the admin HTTP port (/healthz, /readyz, /metrics, /status).
EXPOSE 18000 9090
# For plain Docker; Kubernetes uses the Deployment's probes (/healthz, /readyz) instead.
# Assumes the default admin port 9090 (--admin-port).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9090/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
