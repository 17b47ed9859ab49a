import type { ResourceSet } from '../translation';
import { contentHash } from '../util/hash';
import { encodeAny, encodeMessage, frameField } from './codec';
import { CLUSTER, ENDPOINT, EXTENSION_CONFIG, LISTENER, messageName, PUSH_ORDER, SECRET, type TypeUrl } from './type-urls';
import * as protobuf from 'protobufjs';

/** One resource, serialised once; every stream that sends this version sends these bytes. */
export interface EncodedResource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** Content hash of the encoded message. */
  readonly version: string;
  /** The resource as an Any, framed as field 2 of a DiscoveryResponse. */
  readonly sotwChunk: Buffer;
  /** The resource wrapped in a discovery.v3.Resource, framed as field 2 of a DeltaDiscoveryResponse. */
  readonly deltaChunk: Buffer;
  /** Canonical JSON of the source object: lets the next snapshot reuse this entry unencoded. */
  readonly sourceJson: string;
  readonly source: unknown;
}

export type ResourceMap = ReadonlyMap<string, EncodedResource>;

export interface Snapshot {
  readonly resources: Readonly<Record<TypeUrl, ResourceMap>>;
  /** Version of each type's full set: a hash of its names and resource versions. */
  readonly typeVersions: Readonly<Record<TypeUrl, string>>;
  /** Version of the whole snapshot; equal content gives equal versions on every replica. */
  readonly version: string;
}

/**
 * Encodes a resource set into a snapshot. Unchanged resources are taken from `previous`
 * as they are, so a weight change re-encodes one ClusterLoadAssignment and nothing else.
 * Throws CodecError when an object does not fit its schema (a builder bug).
 */
export function buildSnapshot(set: ResourceSet, previous?: Snapshot): Snapshot {
  const byType: Record<TypeUrl, Array<{ name: string; obj: object }>> = {
    [CLUSTER]: set.clusters.map((c) => ({ name: c.name ?? '', obj: c })),
    [ENDPOINT]: set.endpoints.map((e) => ({ name: e.cluster_name ?? '', obj: e })),
    [EXTENSION_CONFIG]: set.extensionConfigs.map((x) => ({ name: x.name ?? '', obj: x })),
    [SECRET]: set.secrets.map((x) => ({ name: x.name ?? '', obj: x })),
    [LISTENER]: set.listeners.map((l) => ({ name: l.name ?? '', obj: l })),
  };
  const resources = {} as Record<TypeUrl, Map<string, EncodedResource>>;
  const typeVersions = {} as Record<TypeUrl, string>;
  for (const typeUrl of PUSH_ORDER) {
    const map = new Map<string, EncodedResource>();
    const sorted = [...byType[typeUrl]].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, obj } of sorted) {
      const sourceJson = JSON.stringify(obj);
      const prior = previous?.resources[typeUrl].get(name);
      map.set(name, prior && prior.sourceJson === sourceJson ? prior : encodeResource(typeUrl, name, obj, sourceJson));
    }
    resources[typeUrl] = map;
    typeVersions[typeUrl] = setVersion(typeUrl, [...map.values()]);
  }
  return {
    resources,
    typeVersions,
    version: contentHash(...PUSH_ORDER.map((t) => typeVersions[t])),
  };
}

/** The version of a response carrying exactly these resources. */
export function setVersion(typeUrl: TypeUrl, resources: readonly EncodedResource[]): string {
  return contentHash(typeUrl, ...resources.map((r) => `${r.name}@${r.version}`));
}

function encodeResource(typeUrl: TypeUrl, name: string, obj: object, sourceJson: string): EncodedResource {
  const bytes = encodeMessage(messageName(typeUrl), obj);
  const version = contentHash(typeUrl, bytes);
  const any = encodeAny(typeUrl, bytes);
  // discovery.v3.Resource: version = 1, resource = 2, name = 3.
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(version);
  w.uint32((2 << 3) | 2).bytes(any);
  w.uint32((3 << 3) | 2).string(name);
  const resource = w.finish();
  return {
    typeUrl,
    name,
    version,
    sotwChunk: frameField(2, any),
    deltaChunk: frameField(2, resource),
    sourceJson,
    source: obj,
  };
}
