// The demo as a user runs it (`scripts/demo --load`), on ports of its own: it starts,
// prints the status page and the mosquitto commands, a subscriber and a publisher meet
// through its Envoy, the weights leave equal under load with the biggest broker ahead, and
// Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { REPO_ROOT } from '../../src/util/repo-root';
import { envoyBinary, freePort, parseClusterHosts, waitFor, type HostStat } from '../support';

const script = path.join(REPO_ROOT, 'dist', 'test', 'tools', 'demo', 'run.js');

describe('the demo (scripts/demo --load)', () => {
  let child: ChildProcess | undefined;
  let out = '';
  let exited: Promise<number | string> = Promise.resolve('not started');
  const ports = { mqtt: 0, xds: 0, admin: 0, envoyAdmin: 0 };
  let dir = '';
  const opened: MqttClient[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(script)) throw new Error(`${script} is missing; run \`npm run build\` first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-demo-'));
    for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
    child = spawn(process.execPath, [script, '--load=60'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ENVOY_BIN: envoyBinary(),
        DEMO_DIR: dir,
        MQTT_PORT: String(ports.mqtt),
        DEMO_XDS_PORT: String(ports.xds),
        DEMO_ADMIN_PORT: String(ports.admin),
        DEMO_ENVOY_ADMIN_PORT: String(ports.envoyAdmin),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? String(signal))));
    await waitFor(() => out.includes('Ctrl-C to stop') || proc.exitCode !== null, { timeoutMs: 90_000, what: 'the demo to start' });
    if (proc.exitCode !== null) throw new Error(`the demo exited with ${proc.exitCode}:\n${out}`);
  });

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.endAsync(true)));
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await exited;
    child?.stdout?.destroy();
    child?.stderr?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the status page URL and the mosquitto commands, and serves the page', async () => {
    const ca = path.join(dir, 'tls', 'ca.crt');
    expect(out).toContain(`Status page: http://127.0.0.1:${ports.admin}/ui`);
    expect(out).toContain(`mosquitto_sub --cafile ${ca} -h localhost -p ${ports.mqtt} -t 'demo/#' -v`);
    expect(out).toContain(`mosquitto_pub --cafile ${ca} -h localhost -p ${ports.mqtt} -t demo/hello -m hi`);
    const page = await fetch(`http://127.0.0.1:${ports.admin}/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    // No pinned weights: the file lists each broker's metrics instead.
    const brokersFile = fs.readFileSync(path.join(dir, 'brokers.yaml'), 'utf8');
    expect(brokersFile).toContain('metricsUrl:');
    expect(brokersFile).not.toMatch(/^\s+weight:/m);
  });

  it('lets subscribers and a publisher meet through Envoy, wherever each lands', async () => {
    const ca = fs.readFileSync(path.join(dir, 'tls', 'ca.crt'));
    const connect = async (clientId: string): Promise<{ client: MqttClient; got: string[] }> => {
      const client = mqtt.connect({
        protocol: 'mqtts',
        host: '127.0.0.1',
        port: ports.mqtt,
        servername: 'localhost',
        ca,
        clientId,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      opened.push(client);
      const got: string[] = [];
      client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString('utf8')}`));
      client.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return { client, got };
    };
    const subs = await Promise.all([0, 1, 2, 3].map((i) => connect(`demo-test-sub-${i}`)));
    await Promise.all(subs.map((s) => s.client.subscribeAsync('demo/#', { qos: 1 })));
    const pub = await connect('demo-test-pub');
    await pub.client.publishAsync('demo/hello', 'hi', { qos: 1 });
    await waitFor(() => subs.every((s) => s.got.length > 0), { timeoutMs: 10_000, what: 'every subscriber to get the message' });
    for (const s of subs) expect(s.got).toEqual(['demo/hello hi']);
  });

  it('moves the weights away from equal under load, the biggest broker ahead of the smallest', async () => {
    // "broker-1  127.0.0.1:41234  capacity 150  metrics ..."
    const capacityByPort = new Map(
      [...out.matchAll(/^ {2}broker-\d+ {2}127\.0\.0\.1:(\d+) {2}capacity (\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]),
    );
    expect([...capacityByPort.values()].sort((a, b) => a - b)).toEqual([150, 300, 600]);
    const portOf = (capacity: number): number => [...capacityByPort].find(([, c]) => c === capacity)?.[0] ?? -1;
    const hosts = async (): Promise<HostStat[]> => {
      const res = await fetch(`http://127.0.0.1:${ports.envoyAdmin}/clusters?format=json`);
      return parseClusterHosts(await res.json(), 'mqtt_brokers');
    };
    const moved = await waitFor(
      async () => {
        const h = await hosts();
        const weight = (capacity: number): number => h.find((x) => x.port === portOf(capacity))?.weight ?? 0;
        return h.length === 3 && new Set(h.map((x) => x.weight)).size > 1 && weight(600) > weight(150) ? h : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the weights to follow capacity' },
    );
    expect(moved).toHaveLength(3);
    // The load really runs: the status lines count its clients.
    await waitFor(() => /load [1-9]\d*\/60 connected/.test(out), { timeoutMs: 30_000, what: 'a status line with the load' });
  });

  it('stops everything on Ctrl-C (SIGINT) and exits 0', async () => {
    child?.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve('still running after 30 s'), 30_000)));
    const code = await Promise.race([exited, late]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(out).toContain('demo: stopping the load, Envoy, the control plane and the brokers');
  });
});
