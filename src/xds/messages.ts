import { concatMessage, decodeMessage } from './codec';
import { envoyApiRoot } from './protos';
import type { EncodedResource } from './snapshot';
import type { TypeUrl } from './type-urls';

/** The parts of envoy.config.core.v3.Node we use. */
export interface NodeInfo {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  user_agent_version?: string;
}

export interface RpcStatus {
  code?: number;
  message?: string;
}

export interface DiscoveryRequest {
  version_info?: string;
  node?: NodeInfo;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DeltaDiscoveryRequest {
  node?: NodeInfo;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export const decodeDiscoveryRequest = (b: Uint8Array): DiscoveryRequest =>
  decodeMessage<DiscoveryRequest>('envoy.service.discovery.v3.DiscoveryRequest', b);

export const decodeDeltaDiscoveryRequest = (b: Uint8Array): DeltaDiscoveryRequest =>
  decodeMessage<DeltaDiscoveryRequest>('envoy.service.discovery.v3.DeltaDiscoveryRequest', b);

const CONTROL_PLANE_ID = 'mqtt-xds';

/** DiscoveryResponse: a header encoded here plus the resources' pre-framed chunks. */
export function encodeDiscoveryResponse(typeUrl: TypeUrl, version: string, nonce: string, resources: readonly EncodedResource[]): Buffer {
  const type = envoyApiRoot().lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const header = type
    .encode(type.fromObject({ version_info: version, type_url: typeUrl, nonce, control_plane: { identifier: CONTROL_PLANE_ID } }))
    .finish();
  return concatMessage(
    header,
    resources.map((r) => r.sotwChunk),
  );
}

export function encodeDeltaDiscoveryResponse(
  typeUrl: TypeUrl,
  systemVersion: string,
  nonce: string,
  resources: readonly EncodedResource[],
  removed: readonly string[],
): Buffer {
  const type = envoyApiRoot().lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const header = type
    .encode(
      type.fromObject({
        system_version_info: systemVersion,
        type_url: typeUrl,
        nonce,
        removed_resources: [...removed],
        control_plane: { identifier: CONTROL_PLANE_ID },
      }),
    )
    .finish();
  return concatMessage(
    header,
    resources.map((r) => r.deltaChunk),
  );
}

/** Only for tests and tools: the full object form of a response. */
export function decodeResponse(kind: 'sotw' | 'delta', bytes: Uint8Array): Record<string, unknown> {
  const name = kind === 'sotw' ? 'envoy.service.discovery.v3.DiscoveryResponse' : 'envoy.service.discovery.v3.DeltaDiscoveryResponse';
  return decodeMessage<Record<string, unknown>>(name, bytes);
}
