import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDrainArgs, runDrain } from '../../src/drain-command';

describe('mqtt-xds drain arguments', () => {
  it('takes the broker and defaults the admin URL', () => {
    expect(parseDrainArgs(['broker-1'], {})).toMatchObject({
      broker: 'broker-1',
      adminUrl: 'http://127.0.0.1:9090',
      wait: false,
      cancel: false,
    });
    expect(parseDrainArgs(['broker-1', '--wait'], { MQTT_XDS_ADMIN_URL: 'http://cp:9090/' })).toMatchObject({
      adminUrl: 'http://cp:9090',
      wait: true,
    });
  });

  it.each([
    [[], /name the broker/],
    [['a', 'b'], /unexpected argument "b"/],
    [['a', '--bogus'], /unknown option --bogus/],
    [['a', '--admin-url', 'cp:9090'], /must be an http\(s\) URL/],
    [['a', '--timeout-sec', '0'], /whole number/],
    [['a', '--wait', '--cancel'], /do not go together/],
  ])('refuses %j', (argv, message) => {
    expect(parseDrainArgs(argv, {})).toMatch(message);
  });
});

describe('mqtt-xds drain against an admin port', () => {
  let server: http.Server;
  let url: string;
  let polls = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') return void res.writeHead(202).end(JSON.stringify({ broker: 'b1', created: true }));
      if (req.url === '/drain/missing') return void res.writeHead(404).end(JSON.stringify({ error: 'no broker named "missing"' }));
      if (req.url === '/drain/endless') {
        // Not an admin port: an answer without end.
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = (): void => {
          while (res.write(chunk));
          res.once('drain', pump);
        };
        req.socket.once('close', () => res.removeAllListeners('drain'));
        return void pump();
      }
      polls += 1;
      res.end(JSON.stringify({ broker: 'b1', drained: polls >= 2, connections: polls >= 2 ? 0 : 5, moved: 5 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });

  it('requests the drain and waits until it is reported drained', async () => {
    const lines: string[] = [];
    const code = await runDrain(
      { broker: 'b1', adminUrl: url, tokenFile: '', wait: true, cancel: false, timeoutSec: 10 },
      (l) => lines.push(l),
      (l) => lines.push(l),
      10,
    );
    expect(code).toBe(0);
    expect(lines.at(-1)).toBe('drained: b1 (5 clients moved)');
  });

  it('reads at most 1 MiB of an answer, and says the URL may not be an admin port', async () => {
    const errors: string[] = [];
    const code = await runDrain(
      { broker: 'endless', adminUrl: url, tokenFile: '', wait: false, cancel: true, timeoutSec: 10 },
      () => undefined,
      (l) => errors.push(l),
      10,
    );
    expect(code).toBe(1);
    expect(errors[0]).toMatch(/the answer is over 1048576 bytes; is http:\/\/127\.0\.0\.1:\d+ the mqtt-xds admin port\?/);
  });

  it('exits 1 with the server error for an unknown broker', async () => {
    const errors: string[] = [];
    const code = await runDrain(
      { broker: 'missing', adminUrl: url, tokenFile: '', wait: false, cancel: true, timeoutSec: 10 },
      () => undefined,
      (l) => errors.push(l),
      10,
    );
    expect(code).toBe(1);
    expect(errors[0]).toMatch(/HTTP 404: no broker named "missing"/);
  });
});
