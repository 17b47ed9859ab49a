import * as protobuf from 'protobufjs';
import { envoyApiRoot } from './protos';

const TYPE_PREFIX = 'type.googleapis.com/';

/** Field numbers and wire types we frame by hand (see concatenated encoding below). */
const LEN = 2;
const tag = (field: number): number => (field << 3) | LEN;

export class CodecError extends Error {}

const types = new Map<string, protobuf.Type>();

/** A message type of the Envoy API, looked up once: a lookup walks the namespace tree, and every request is decoded. */
export function messageType(typeName: string): protobuf.Type {
  let type = types.get(typeName);
  if (!type) {
    type = envoyApiRoot().lookupType(typeName);
    types.set(typeName, type);
  }
  return type;
}

/**
 * Encodes one message, refusing fields the schema does not know: protobufjs would drop
 * them silently, and a silently dropped field is a wrong config in production.
 */
export function encodeMessage(typeName: string, obj: object): Buffer {
  const type = messageType(typeName);
  assertKnownFields(type, obj, typeName);
  const message = type.fromObject(obj);
  const err = type.verify(message);
  if (err) throw new CodecError(`${typeName}: ${err}`);
  return Buffer.from(type.encode(message).finish());
}

export function decodeMessage<T>(typeName: string, bytes: Uint8Array): T {
  const type = messageType(typeName);
  return type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: false, arrays: true }) as T;
}

/** The bytes of a `google.protobuf.Any` holding `value` of `typeUrl`. */
export function encodeAny(typeUrl: string, value: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.uint32(tag(1)).string(typeUrl);
  w.uint32(tag(2)).bytes(value);
  return Buffer.from(w.finish());
}

/** `value` framed as one occurrence of length-delimited field `field`. */
export function frameField(field: number, value: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  w.uint32(tag(field)).bytes(value);
  return Buffer.from(w.finish());
}

/**
 * Protobuf lets a message be the concatenation of its fields' encodings. Responses are
 * built as a small header plus resource chunks that were framed once per version, so
 * every stream shares the same bytes and nothing is re-serialised per Envoy.
 */
export function concatMessage(header: Uint8Array, chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat([header, ...chunks]);
}

function assertKnownFields(type: protobuf.Type, obj: unknown, at: string): void {
  if (obj === null || typeof obj !== 'object' || Buffer.isBuffer(obj) || obj instanceof Uint8Array) return;
  if (type.fullName === '.google.protobuf.Any') {
    const any = obj as Record<string, unknown>;
    const url = any['@type'];
    if (typeof url === 'string') {
      const inner = messageType(url.startsWith(TYPE_PREFIX) ? url.slice(TYPE_PREFIX.length) : url);
      const { ['@type']: _ignored, ...rest } = any;
      assertKnownFields(inner, rest, `${at}<${inner.name}>`);
    }
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) throw new CodecError(`${at}.${key}: no such field in ${type.fullName.slice(1)}`);
    if (value === undefined || value === null || !field.resolvedType) continue;
    if (field.resolvedType instanceof protobuf.Enum) {
      const values = field.resolvedType.values;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' && !(v in values)) {
          throw new CodecError(`${at}.${key}: "${v}" is not a value of ${field.resolvedType.fullName.slice(1)}`);
        }
      }
      continue;
    }
    if (!(field.resolvedType instanceof protobuf.Type)) continue;
    const fieldType = field.resolvedType;
    if (field.repeated && Array.isArray(value)) {
      value.forEach((v, i) => assertKnownFields(fieldType, v, `${at}.${key}[${i}]`));
    } else if (field.map && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as object)) assertKnownFields(fieldType, v, `${at}.${key}[${k}]`);
    } else {
      assertKnownFields(fieldType, value, `${at}.${key}`);
    }
  }
}
