// The sub-commands against a small admin port: exit codes, what goes to stdout and stderr.
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { subCommand, type CommandIo } from '../../../src/commands';

let nodes: string[] = [];
let server: http.Server;
let url: string;
const seen: Array<{ url: string; authorization?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/proxy-status'))
      return void res.end(
        JSON.stringify({ proxies: nodes.map((node, i) => ({ node, cluster: 'c', kind: 'sotw', stream: i, types: {} })) }),
      );
    if (req.url === '/config-dump?node=edge-1')
      return void res.end(JSON.stringify({ node: 'edge-1', resources: { Listener: [{ name: 'mqtt', resource: { name: 'mqtt' } }] } }));
    if (req.url === '/status') return void res.end(JSON.stringify({ version: '1.2.3', decisions: [] }));
    res.writeHead(404).end(JSON.stringify({ error: 'no Envoy with node id "x" is connected' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const [name, ...rest] = argv;
  const code = await subCommand(name)!.run(rest, { MQTT_XDS_ADMIN_URL: url }, io);
  return { code, out, err };
}

describe('mqtt-xds config-dump', () => {
  it('dumps the one connected Envoy as YAML by default', async () => {
    nodes = ['edge-1'];
    const r = await run('config-dump');
    expect(r.code).toBe(0);
    expect(parse(r.out.join('\n'))).toEqual({ node: 'edge-1', resources: { Listener: [{ name: 'mqtt', resource: { name: 'mqtt' } }] } });
  });

  it('asks for --node when several Envoys are connected, and exits 1', async () => {
    nodes = ['edge-2', 'edge-1'];
    const r = await run('config-dump');
    expect(r).toMatchObject({
      code: 1,
      out: [],
      err: ['mqtt-xds config-dump: 2 Envoys are connected (edge-1, edge-2); name one with --node ID'],
    });
  });

  it("prints the server's reason for an unknown node", async () => {
    const r = await run('config-dump', '--node', 'x', '--output=json');
    expect(r.code).toBe(1);
    expect(r.err[0]).toBe(`mqtt-xds config-dump: GET ${url}/config-dump?node=x: HTTP 404: no Envoy with node id "x" is connected`);
  });

  it('refuses an unknown output format with exit 2 and the usage', async () => {
    const r = await run('config-dump', '-o', 'xml');
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe('mqtt-xds config-dump: --output must be one of yaml, json, got "xml"');
    expect(r.err[1]).toMatch(/^Usage: mqtt-xds config-dump/);
  });
});

describe('the other sub-commands', () => {
  it('print their usage for -h and exit 0', async () => {
    for (const name of ['status', 'proxy-status', 'config-dump', 'drain', 'completion']) {
      const r = await run(name, '-h');
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^Usage: mqtt-xds ${name}`));
    }
  });

  it('pass --node through, and refuse stray arguments', async () => {
    nodes = ['a b'];
    expect((await run('proxy-status', '--node', 'a b')).out).toEqual(['NODE  CLUSTER  ADS', 'a b   c        SotW']);
    expect(seen.at(-1)?.url).toBe('/proxy-status?node=a%20b');
    expect(await run('status', 'extra')).toMatchObject({
      code: 2,
      err: ['mqtt-xds status: unexpected argument "extra"', expect.stringMatching(/^Usage: /)],
    });
  });

  it('print JSON on request, sending the token of --token-file', async () => {
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'mqtt-xds-cmd-')), 'token');
    writeFileSync(tokenFile, 'tok-123\n');
    const r = await run('status', '--output', 'json', `--token-file=${tokenFile}`);
    expect(JSON.parse(r.out.join('\n'))).toEqual({ version: '1.2.3', decisions: [] });
    expect(seen.at(-1)).toEqual({ url: '/status', authorization: 'Bearer tok-123' });
  });
});
