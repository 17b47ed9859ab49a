// Our own encoder for MQTT CONNECT packets (3.1, 3.1.1, 5), so tests can build valid ones with
// any field and then break them on purpose.

export interface ConnectFields {
  /** 3 (MQTT 3.1, name MQIsdp), 4 (3.1.1) or 5. */
  level: 3 | 4 | 5;
  clientId: string;
  cleanStart?: boolean;
  keepAliveS?: number;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean };
  /** MQTT 5 CONNECT properties, already encoded (id, value…); default none. */
  properties?: Uint8Array;
  /** MQTT 5 will properties, already encoded. */
  willProperties?: Uint8Array;
}

export function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function utf8Field(s: string): number[] {
  return binaryField(Buffer.from(s, 'utf8'));
}

export function binaryField(b: Uint8Array): number[] {
  return [b.length >> 8, b.length & 0xff, ...b];
}

export function connectPacket(f: ConnectFields): Uint8Array {
  const name = f.level === 3 ? 'MQIsdp' : 'MQTT';
  let flags = 0;
  if (f.cleanStart ?? true) flags |= 0x02;
  if (f.will) flags |= 0x04 | (f.will.qos << 3) | (f.will.retain ? 0x20 : 0);
  if (f.password !== undefined) flags |= 0x40;
  if (f.username !== undefined) flags |= 0x80;
  const keepAlive = f.keepAliveS ?? 60;
  const body: number[] = [...utf8Field(name), f.level, flags, keepAlive >> 8, keepAlive & 0xff];
  if (f.level === 5) {
    const props = f.properties ?? new Uint8Array(0);
    body.push(...varint(props.length), ...props);
  }
  body.push(...utf8Field(f.clientId));
  if (f.will) {
    if (f.level === 5) {
      const props = f.willProperties ?? new Uint8Array(0);
      body.push(...varint(props.length), ...props);
    }
    body.push(...utf8Field(f.will.topic), ...binaryField(f.will.payload));
  }
  if (f.username !== undefined) body.push(...utf8Field(f.username));
  if (f.password !== undefined) body.push(...binaryField(f.password));
  return Uint8Array.from([0x10, ...varint(body.length), ...body]);
}

export interface PublishFields {
  /** 5 adds the property length (and `properties`) to the variable header. */
  level: 3 | 4 | 5;
  topic: string;
  payload: Uint8Array;
  qos?: 0 | 1 | 2;
  /** MQTT 5 PUBLISH properties, already encoded; default none. */
  properties?: Uint8Array;
}

/** A PUBLISH; its MQTT payload is `payload`, the rest (topic, packet id, properties) is variable header. */
export function publishPacket(f: PublishFields): Uint8Array {
  const qos = f.qos ?? 0;
  const header: number[] = [...utf8Field(f.topic)];
  if (qos > 0) header.push(0, 1);
  if (f.level === 5) {
    const props = f.properties ?? new Uint8Array(0);
    header.push(...varint(props.length), ...props);
  }
  const remaining = header.length + f.payload.length;
  const out = Buffer.alloc(1 + varint(remaining).length + remaining);
  out[0] = 0x30 | (qos << 1);
  const lengthBytes = varint(remaining);
  out.set(lengthBytes, 1);
  out.set(header, 1 + lengthBytes.length);
  out.set(f.payload, 1 + lengthBytes.length + header.length);
  return out;
}

/** A packet of any other type: first byte and body as given. */
export function otherPacket(first: number, body: readonly number[] = []): Uint8Array {
  return Uint8Array.from([first, ...varint(body.length), ...body]);
}
