import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { REPO_ROOT } from '../util/repo-root';

/**
 * Loads the Envoy API from the pinned @grpc/grpc-js-xds package (its deps/ folder carries
 * envoy-api, xds, googleapis and protoc-gen-validate). The list of files is ours, in
 * proto/api-files.json. protobufjs is used directly because proto-loader exposes only
 * service-level serialisers, and the cache must encode single resources for Any fields.
 */
interface ApiFiles {
  includeDirs: string[];
  files: string[];
}

/** The part of protobufjs's descriptor.json read here: the google.protobuf namespace. */
interface DescriptorJson {
  nested: { google: { nested: { protobuf: { nested: Record<string, unknown> } } } };
}

let cached: protobuf.Root | undefined;

export function envoyApiRoot(): protobuf.Root {
  if (cached) return cached;
  const api = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'proto', 'api-files.json'), 'utf8')) as ApiFiles;
  const depsDir = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const dirs = api.includeDirs.map((d) => path.join(depsDir, d));

  // google/protobuf/descriptor.proto is not in deps/; protobufjs ships it as JSON.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const descriptor = require('protobufjs/google/protobuf/descriptor.json') as DescriptorJson;
  protobuf.common('descriptor', descriptor.nested.google.nested.protobuf.nested);

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return target; // protobufjs then looks among its bundled common files
  };
  root.loadSync(api.files, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}
