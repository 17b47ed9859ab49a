// bench:filter's broker: the least an MQTT server can do, so that the proxy in front is what
// the benchmark measures. It answers every CONNECT with a CONNACK (accepted), PINGREQ with
// PINGRESP, closes on DISCONNECT, and counts PUBLISH packets without reading them
// (framing.ts). It also answers Envoy's MQTT health check, which is a CONNECT. Forked by
// run.ts: `--ports N` listeners on 127.0.0.1; IPC {type:'ready', ports}, and
// {type:'counts'} → {type:'counts', connects, publishes, publishBytes}.
import net from 'node:net';
import { Framer } from './framing';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);
const TYPE = { connect: 1, publish: 3, pingreq: 12, disconnect: 14 } as const;

const counts = { connects: 0, publishes: 0, publishBytes: 0 };

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  const framer = new Framer((type, bytes) => {
    if (type === TYPE.publish) {
      counts.publishes += 1;
      counts.publishBytes += bytes;
    } else if (type === TYPE.connect) {
      counts.connects += 1;
      socket.write(CONNACK);
    } else if (type === TYPE.pingreq) {
      socket.write(PINGRESP);
    } else if (type === TYPE.disconnect) {
      socket.end();
    }
  });
  socket.on('data', (chunk: Buffer) => {
    framer.feed(chunk);
    if (framer.error !== undefined) socket.destroy();
  });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--ports');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 1;
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`--ports takes 1..16, got ${process.argv[i + 1]}`);
  const ports: number[] = [];
  for (let k = 0; k < n; k++) {
    const server = net.createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as net.AddressInfo).port);
  }
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'counts') process.send?.({ type: 'counts', ...counts });
    if (m?.type === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', ports });
}

main().catch((err: unknown) => {
  process.stderr.write(`sink: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
