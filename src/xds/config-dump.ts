// What one Envoy receives, decoded back from the bytes the cache sends it, for
// GET /config-dump. Private keys and other secrets are redacted: the dump is for reading.
import * as protobuf from 'protobufjs';
import { messageType } from './codec';
import type { EncodedResource } from './snapshot';
import { messageName, type TypeUrl } from './type-urls';

/** Written in place of every redacted value. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets wherever they appear: a TLS private key (inline or
 * a provider's config), passwords, ticket keys, generic secrets, HMAC secrets and tokens.
 */
const SECRET_FIELD = /^(private_key|private_key_provider|password|session_ticket_keys|secret|hmac_secret|.*token.*)$/i;

export interface DumpedResource {
  readonly name: string;
  readonly version: string;
  /** The resource as Envoy decodes it, in proto field names; nested Anys carry "@type". */
  readonly resource: unknown;
}

/** One resource as JSON, decoded from the Any it is sent as, with its secrets redacted. */
export function dumpResource(r: EncodedResource): DumpedResource {
  // sotwChunk is field 2 of a DiscoveryResponse: a tag, a length, then the Any's bytes.
  const reader = protobuf.Reader.create(r.sotwChunk);
  reader.uint32();
  const anyType = messageType('google.protobuf.Any');
  const any = anyType.decode(reader.bytes()) as unknown as { type_url: string; value: Uint8Array };
  const type = messageType(messageName(any.type_url as TypeUrl));
  const json = type.toObject(type.decode(any.value), { longs: String, enums: String, bytes: String, defaults: false, json: true });
  return { name: r.name, version: r.version, resource: redact(json) };
}

/** A copy of `value` with every secret field's value replaced by REDACTED. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = SECRET_FIELD.test(k) ? REDACTED : redact(v);
  return out;
}
