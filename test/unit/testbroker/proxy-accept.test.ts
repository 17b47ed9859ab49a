import net from 'node:net';
import { acceptProxied, type ProxyAcceptOptions, type ProxyOutcome } from '../../tools/testbroker/proxy-accept';
import { tlv, v2Header } from '../../support/proxy-header';

const PAYLOAD = Buffer.from('100e00044d5154540402003c00026331', 'hex');
const HEADER = v2Header({
  source: { address: '203.0.113.9', port: 41000 },
  destination: { address: '10.0.0.1', port: 1883 },
  tlvs: [tlv(0x02, 'broker.example'), tlv(0xe0, 'x')],
});

interface Accepted {
  readonly outcome: ProxyOutcome;
  /** What the next reader got, read as aedes does ('readable', then read()), until the client ended. */
  readonly payload: Promise<Buffer> | null;
}

/** A loopback server whose connections go through acceptProxied; each accepted connection's result. */
async function server(options: ProxyAcceptOptions): Promise<{ port: number; next(): Promise<Accepted>; close(): Promise<void> }> {
  const waiting: Array<(a: Accepted) => void> = [];
  const ready: Accepted[] = [];
  const deliver = (a: Accepted): void => {
    const take = waiting.shift();
    if (take) take(a);
    else ready.push(a);
  };
  const srv = net.createServer((socket) => {
    let outcome: ProxyOutcome | undefined;
    acceptProxied(
      socket,
      options,
      (o) => {
        outcome = o;
        if (o.kind === 'refused') deliver({ outcome: o, payload: null });
      },
      (passed) => {
        const payload = new Promise<Buffer>((resolve) => {
          const chunks: Buffer[] = [];
          passed.on('readable', () => {
            let chunk: Buffer | null;
            while ((chunk = passed.read() as Buffer | null) !== null) chunks.push(chunk);
          });
          passed.on('end', () => {
            resolve(Buffer.concat(chunks));
            passed.end();
          });
        });
        deliver({ outcome: outcome!, payload });
      },
    );
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    next: () => (ready.length ? Promise.resolve(ready.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    close: () => new Promise((resolve) => srv.close(() => resolve())),
  };
}

/** Connects, writes each chunk (yielding between them so they travel apart), then ends unless told not to; resolves on close. */
async function client(port: number, chunks: readonly Buffer[], end = true): Promise<{ closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.resume();
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  if (end) socket.end();
  return { closed };
}

describe('acceptProxied', () => {
  const required: ProxyAcceptOptions = { mode: 'required', maxHeaderBytes: 4096, headerTimeoutMs: 2000 };
  const optional: ProxyAcceptOptions = { ...required, mode: 'optional' };
  let srv: Awaited<ReturnType<typeof server>>;

  afterEach(async () => {
    await srv.close();
  });

  it('hands on the socket with the bytes after the header, in the same write, unread', async () => {
    srv = await server(required);
    await client(srv.port, [Buffer.concat([HEADER, PAYLOAD])]);
    const { outcome, payload } = await srv.next();
    expect(outcome).toMatchObject({ kind: 'header', header: { source: { address: '203.0.113.9', port: 41000 } } });
    expect(outcome.kind === 'header' && outcome.header.tlvs.authority).toBe('broker.example');
    expect((await payload!).equals(PAYLOAD)).toBe(true);
  });

  it('gets the same when the header and payload arrive a few bytes at a time', async () => {
    srv = await server(required);
    const whole = Buffer.concat([HEADER, PAYLOAD]);
    const chunks = Array.from({ length: Math.ceil(whole.length / 3) }, (_, i) => whole.subarray(3 * i, 3 * i + 3));
    await client(srv.port, chunks);
    const { outcome, payload } = await srv.next();
    expect(outcome.kind).toBe('header');
    expect((await payload!).equals(PAYLOAD)).toBe(true);
  });

  it('closes a plain MQTT connection when the header is required', async () => {
    srv = await server(required);
    const { closed } = await client(srv.port, [PAYLOAD], false);
    expect((await srv.next()).outcome).toMatchObject({ kind: 'refused', error: { code: 'PROXY_BAD_SIGNATURE' } });
    await closed;
  });

  it('passes a plain MQTT connection on, every byte, when the header is optional', async () => {
    srv = await server(optional);
    await client(srv.port, [PAYLOAD.subarray(0, 1), PAYLOAD.subarray(1)]);
    const { outcome, payload } = await srv.next();
    expect(outcome).toEqual({ kind: 'absent' });
    expect((await payload!).equals(PAYLOAD)).toBe(true);
  });

  it('closes a connection whose header is not complete by the deadline', async () => {
    srv = await server({ ...required, headerTimeoutMs: 50 });
    const started = Date.now();
    const { closed } = await client(srv.port, [HEADER.subarray(0, 20)], false);
    expect((await srv.next()).outcome).toMatchObject({ kind: 'refused', error: { code: 'PROXY_TIMEOUT' } });
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('names a connection that ended mid-header', async () => {
    srv = await server(required);
    await client(srv.port, [HEADER.subarray(0, 10)]);
    expect((await srv.next()).outcome).toMatchObject({ kind: 'refused', error: { code: 'PROXY_INCOMPLETE' } });
  });
});
