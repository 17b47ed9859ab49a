// The built CLI against a real control plane and a real Envoy: the brokers table, which
// Envoy holds what (SYNCED, then NACKED for a listener Envoy rejects), and what it is sent.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { staticWeightPlan } from '../../src/balancing';
import { withOverrides } from '../../src/config';
import type { Broker } from '../../src/domain';
import type { ControlPlane } from '../../src/main';
import { buildResources } from '../../src/translation';
import { LISTENER } from '../../src/xds';
import { startBrokers, startEnvoy, stopBrokers, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { REPO_ROOT } from '../support/repo-root';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.each(['sotw', 'delta'] as const)('the mqtt-xds CLI against a running control plane and an Envoy on %s ADS', (mode) => {
  const NODE = `envoy-cli-${mode}`;
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let adminUrl: string;

  const run = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, ...args],
        { env: { PATH: process.env.PATH ?? '', MQTT_XDS_ADMIN_URL: adminUrl }, timeout: 20_000 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
  /** Our Envoy's types in GET /proxy-status: waits poll the port, the CLI is run once they are met. */
  const envoyRow = async (): Promise<Record<string, { state: string; error?: string; acked?: string }> | undefined> => {
    const doc = (await (await fetch(`${adminUrl}/proxy-status?node=${NODE}`)).json()) as {
      proxies: Array<{ types: Record<string, { state: string; error?: string }> }>;
    };
    return doc.proxies[0]?.types;
  };
  const rowIs = async (want: Record<string, string>): Promise<string | false> => {
    const t = await envoyRow();
    const seen = JSON.stringify(t);
    return Object.entries(want).every(([type, state]) => t?.[type]?.state === state) && seen;
  };

  beforeAll(async () => {
    brokers = await startBrokers(2);
    setup = await planeConfig();
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 1 },
      { broker: brokers[1], weight: 3 },
    ]);
    // Static balancing (no scrape rounds) and no load reports from Envoy: either would make the
    // plane publish its own listener again, over the broken one the NACK test publishes.
    ({ plane } = await startPlane(withOverrides(setup.config, { balancing: { mode: 'static' } })));
    adminUrl = `http://127.0.0.1:${setup.config.admin.port}`;
    envoy = await startEnvoy({ mode, xdsPort: setup.config.xds.port, nodeId: NODE, waitReady: 'live', loadStats: false });
    await waitFor(async () => envoy.listenerReady(setup.config.listener.port), { timeoutMs: 30_000, what: 'a ready MQTT listener' });
  });

  afterAll(async () => {
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run('--version');
    expect(r).toMatchObject({ code: 0, stdout: `mqtt-xds ${pkg.version}\n` });
    const status = (await (await fetch(`${adminUrl}/status`)).json()) as { version: string };
    expect(status.version).toBe(pkg.version);
  });

  it('shows the brokers table with their weights', async () => {
    const r = await run('status');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^BROKER +HEALTH +WEIGHT +UTIL +CAPACITY +SOURCE +REASON$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${brokers[0].name} +SERVING +1 `)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${brokers[1].name} +SERVING +3 `)));
  });

  it('shows the Envoy SYNCED for CDS, EDS and LDS', async () => {
    await waitFor(() => rowIs({ CDS: 'SYNCED', EDS: 'SYNCED', LDS: 'SYNCED' }), { timeoutMs: 20_000, what: 'CDS, EDS and LDS SYNCED' });
    const r = await run('proxy-status');
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.split('\n');
    expect(header).toMatch(/^NODE +CLUSTER +ADS +CDS +EDS +.*LDS$/);
    expect(row).toMatch(
      new RegExp(`^${NODE} +\\S+ +${mode === 'sotw' ? 'SotW' : 'Delta'} +SYNCED [0-9a-f]{8} +SYNCED [0-9a-f]{8} .*SYNCED [0-9a-f]{8}$`),
    );
  });

  it("dumps the Envoy's config as YAML, naming its listener and cluster", async () => {
    const r = await run('config-dump');
    expect(r.code).toBe(0);
    const doc = parse(r.stdout) as { node: string; resources: Record<string, Array<{ name: string; resource: Record<string, unknown> }>> };
    expect(doc.node).toBe(NODE);
    expect(doc.resources.Listener.map((l) => l.name)).toContain('mqtt');
    expect(doc.resources.Cluster.map((c) => c.name)).toContain('mqtt_brokers');
    expect(doc.resources.ClusterLoadAssignment[0].resource).toMatchObject({ cluster_name: 'mqtt_brokers' });
    const json = await run('config-dump', '--node', NODE, '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual(doc);
  });

  it('answers an unknown node with 404 and its reason, and a bad flag with exit 2 naming it', async () => {
    const r = await run('config-dump', '--node=nobody');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`HTTP 404: no Envoy with node id "nobody" is connected; connected: "${NODE}"`);
    const bad = await run('proxy-status', '--nod', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --nod (did you mean "--node"?)');
  });

  it("shows LDS NACKED with Envoy's message for a listener it rejects, and SYNCED once it is fixed", async () => {
    const current: Broker[] = brokers.map((b, i) => ({ name: b.name, address: '127.0.0.1', port: b.port, staticWeight: i === 0 ? 1 : 3 }));
    const good = buildResources(plane.model(staticWeightPlan(current)));
    const bad = JSON.parse(JSON.stringify(good));
    // Envoy binds listeners to IP literals only; our own validation does not look at it.
    bad.listeners[0].address.socket_address.address = 'not-an-ip';
    expect(plane.publish(bad)).toEqual([]);
    await waitFor(() => rowIs({ LDS: 'NACKED' }), { timeoutMs: 20_000, what: 'LDS NACKED' });
    const r = await run('proxy-status');
    expect(r.stdout).toMatch(new RegExp(`NACKs:\\n  ${NODE} LDS: .*not-an-ip`));
    expect((await envoyRow())?.CDS?.state).toBe('SYNCED');
    expect(plane.publish(good)).toEqual([]);
    await waitFor(() => rowIs({ LDS: 'SYNCED' }), { timeoutMs: 20_000, what: 'LDS SYNCED again' });
    expect(plane.xdsStreams()[0].types[LISTENER]?.ackedVersion).toBe(plane.cache.snapshot()?.typeVersions[LISTENER]);
  });
});
