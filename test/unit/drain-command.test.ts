import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HELP } from '../../src/commands/command';
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

  it('takes POSIX forms: --flag=value, -h, and "--" before a broker name that starts with a dash', () => {
    expect(parseDrainArgs(['--admin-url=http://cp:9090', 'b1', '--timeout-sec=5', '--wait'], {})).toMatchObject({
      broker: 'b1',
      adminUrl: 'http://cp:9090',
      timeoutSec: 5,
      wait: true,
    });
    expect(parseDrainArgs(['--', '-odd'], {})).toMatchObject({ broker: '-odd' });
    expect(parseDrainArgs(['-h'], {})).toBe(HELP);
    expect(parseDrainArgs(['b1', '--help', '--bogus'], {})).toBe(HELP);
    expect(parseDrainArgs(['b1', '--token-file', '/run/t'], { MQTT_XDS_ADMIN_TOKEN_FILE: '/etc/t' })).toMatchObject({
      tokenFile: '/run/t',
    });
  });

  it.each([
    [['a', '--admin-url'], /option --admin-url needs a value/],
    [['a', '--admin-url', '--wait'], /option --admin-url needs a value/],
    [['a', '--wait=yes'], /option --wait takes no value/],
    [['a', '--wiat'], /unknown option --wiat \(did you mean "--wait"\?\)/],
    [['a', '--timeout-sec', '1.5'], /whole number of seconds >= 1, got "1.5"/],
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
    expect(lines).toContain('draining: 5 connections left, 5 moved');
  });

  it('draws one redrawn progress line on a terminal, and ends it before the result', async () => {
    polls = 0;
    const lines: string[] = [];
    let drawn = '';
    const code = await runDrain(
      { broker: 'b1', adminUrl: url, tokenFile: '', wait: true, cancel: false, timeoutSec: 10 },
      (l) => lines.push(l),
      (l) => lines.push(l),
      10,
      { write: (t) => void (drawn += t), columns: 80 },
    );
    expect(code).toBe(0);
    expect(drawn).toBe('\r\x1b[Kb1 [####################--------------------]  50%  5 left, 5 moved, ETA --\n');
    expect(lines.filter((l) => l.startsWith('draining:'))).toEqual([]);
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
