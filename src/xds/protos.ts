import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { REPO_ROOT } from '../util/repo-root';

/**
 * Loads the Envoy 1.40 API from the FileDescriptorSet that tools/envoy-api writes (from
 * go-control-plane's embedded descriptors; see docs/decisions.md). proto/api-files.json
 * names the files; the set holds them and all their imports. protobufjs is used directly
 * because proto-loader exposes only service-level serialisers, and the cache must encode
 * single resources for Any fields.
 */
export const DESCRIPTOR_SET_PATH = path.join(REPO_ROOT, 'proto', 'generated', 'envoy-api.binpb');

let cached: protobuf.Root | undefined;

export function envoyApiRoot(): protobuf.Root {
  if (cached) return cached;
  cached = rootFromDescriptorSet(readDescriptorSet());
  return cached;
}

function readDescriptorSet(): Buffer {
  try {
    return fs.readFileSync(DESCRIPTOR_SET_PATH);
  } catch (err) {
    throw new Error(
      `cannot read the Envoy API descriptor set ${DESCRIPTOR_SET_PATH} (${(err as Error).message}); ` +
        'run scripts/setup or `npm run gen`, which build it with tools/envoy-api',
    );
  }
}

/** The parts of google.protobuf.FileDescriptorSet read here, as protobufjs/ext/descriptor decodes it. */
interface DescriptorField {
  name: string;
  type?: number;
  options?: { packed?: boolean } | null;
}
interface DescriptorMessage {
  name: string;
  field?: DescriptorField[];
  nestedType?: DescriptorMessage[];
  options?: { mapEntry?: boolean };
}
interface DescriptorSet {
  file: { package?: string; syntax?: string; messageType?: DescriptorMessage[] }[];
}
interface DescriptorExt {
  FileDescriptorSet: { decode(bytes: Uint8Array): DescriptorSet };
}
type FromDescriptor = (set: DescriptorSet) => protobuf.Root;

/** Scalar wire types that proto3 packs when repeated (FieldDescriptorProto.Type: all but string, group, message, bytes). */
const PACKABLE = new Set([1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 17, 18]);

/** A protobufjs root equal to what parsing the .proto files gives, built from a FileDescriptorSet. */
export function rootFromDescriptorSet(bytes: Uint8Array): protobuf.Root {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ext = require('protobufjs/ext/descriptor') as DescriptorExt;
  const fromDescriptor = (protobuf.Root as unknown as { fromDescriptor: FromDescriptor }).fromDescriptor;
  const set = ext.FileDescriptorSet.decode(bytes);
  const mapEntries = prepare(set);
  const root = fromDescriptor(set);
  restoreMapFields(root, mapEntries);
  root.resolveAll();
  return root;
}

/**
 * Collects the full names (".pkg.Msg.FieldEntry") of the synthetic messages that spell
 * map fields, and works around a slip of fromDescriptor: it gives every proto3 scalar
 * field that has any option at all `packed=false`, which would write repeated scalars
 * unpacked. Such a field gets the proto3 default, `packed=true`, spelt out.
 */
function prepare(set: DescriptorSet): Set<string> {
  const mapEntries = new Set<string>();
  const visit = (prefix: string, proto3: boolean, messages: DescriptorMessage[] | undefined): void => {
    for (const m of messages ?? []) {
      const name = `${prefix}.${m.name}`;
      if (m.options?.mapEntry) mapEntries.add(name);
      for (const f of m.field ?? []) {
        const explicit = f.options != null && Object.prototype.hasOwnProperty.call(f.options, 'packed');
        if (proto3 && f.options != null && !explicit && f.type !== undefined && PACKABLE.has(f.type)) f.options.packed = true;
      }
      visit(name, proto3, m.nestedType);
    }
  };
  for (const file of set.file) visit(file.package ? `.${file.package}` : '', file.syntax === 'proto3', file.messageType);
  return mapEntries;
}

/**
 * A descriptor spells `map<K, V> f` as `repeated FEntry f` with a nested entry message,
 * and protobufjs's fromDescriptor keeps it that way: the field would then take and give
 * a list of {key, value} instead of an object, unlike the parsed .proto. Turn each back
 * into a MapField and drop the entry type, as the .proto parser does. fromDescriptor
 * also marks the *parent* of an entry with map_entry; that mark is removed.
 */
function restoreMapFields(ns: protobuf.NamespaceBase, entries: Set<string>): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) restoreType(nested, entries);
    else if (nested instanceof protobuf.Namespace) restoreMapFields(nested, entries);
  }
}

function restoreType(type: protobuf.Type, entries: Set<string>): void {
  if (type.options?.['map_entry'] === true && !entries.has(type.fullName)) delete type.options['map_entry'];
  for (const field of [...type.fieldsArray]) {
    const entry = field.repeated ? field.resolve().resolvedType : null;
    if (!(entry instanceof protobuf.Type) || !entries.has(entry.fullName)) continue;
    const key = entry.fields['key'];
    const value = entry.fields['value'];
    if (!key || !value) throw new Error(`${entry.fullName}: a map entry without key and value`);
    type.remove(field);
    const valueType = value.resolve().resolvedType?.fullName ?? value.type;
    type.add(new protobuf.MapField(field.name, field.id, key.type, valueType, field.options));
    if (entry.parent === type) type.remove(entry);
  }
  for (const nested of type.nestedArray) if (nested instanceof protobuf.Type) restoreType(nested, entries);
}
