// The MQTT Wasm filter sent by mqtt-xds over ECDS (policy mqttFilter:), in the real Envoy 1.40
// driven over ADS, in front of a real aedes broker. The module travels inline in the ECDS
// config: Envoy reads no file. A setting changed in the policy reaches Envoy as an ECDS
// update that leaves the Listener and every established connection alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import net from 'node:net';
import mqtt from 'mqtt';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { EXTENSION_CONFIG, LISTENER } from '../../src/xds';
import { connectClient, roundTrip, startBrokers, startEnvoy, stopBrokers, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { connectPacket } from '../support/mqtt-packets';
import { planeConfig, startPlane, writeBrokersFile } from './plane';

const CLUSTER = 'mqtt_brokers';
const FILTER = 'mqtt.mqtt_filter';
const policy = (maxClientIdBytes: number | string): string =>
  ['mqttFilter:', '  enabled: true', `  maxClientIdBytes: ${maxClientIdBytes}`, '  firstPacketTimeoutMs: 5000', ''].join('\n');

/** Writes `bytes`; resolves once Envoy closes the connection, with what came back. */
function sendAndWaitClose(port: number, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received)));
  });
}

describe.each(['sotw', 'delta'] as const)('the MQTT filter from mqtt-xds over %s ADS', (mode) => {
  let brokers: TestBroker[];
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let port: number;
  let policyFile: string;
  let adminPort: number;
  let held: mqtt.MqttClient | undefined;
  let heldClosed = false;
  const stat = async (name: string): Promise<number> => (await envoy.stat(name)) ?? 0;
  const counter = (name: string): Promise<number> => stat(`wasmcustom.${name}`);
  const writePolicy = (text: string): void => {
    fs.writeFileSync(`${policyFile}.tmp`, text);
    fs.renameSync(`${policyFile}.tmp`, policyFile);
  };
  /** The filter's JSON configuration as Envoy holds it from ECDS. */
  const filterConfiguration = async (): Promise<Record<string, number> | undefined> => {
    const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
    const f = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === FILTER);
    const value = f?.ecds_filter?.typed_config?.config?.configuration?.value;
    return typeof value === 'string' ? JSON.parse(value) : undefined;
  };

  beforeAll(async () => {
    brokers = await startBrokers(1);
    const setup = await planeConfig();
    policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, policy(64));
    writeBrokersFile(setup.brokersFile, [{ broker: brokers[0], weight: 1 }]);
    const config = withOverrides(setup.config, { balancing: { mode: 'static', policyFile, minPushIntervalMs: 0 } });
    adminPort = config.admin.port;
    ({ plane } = await startPlane(config));
    envoy = await startEnvoy({ mode, xdsPort: config.xds.port, waitReady: 'live', extraArgs: ['--drain-time-s', '2'] });
    port = config.listener.port;
    await waitFor(async () => (await envoy.clusterHosts(CLUSTER)).every((h) => h.healthy) && (await envoy.listenerReady(port)), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'a healthy broker behind a ready listener',
    });
  });

  afterAll(async () => {
    await held?.endAsync(true);
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it('serves the filter over ECDS with the module inline, and tcp_proxy waits for the CONNECT', async () => {
    expect(await filterConfiguration()).toEqual({
      maxConnectBytes: 16384,
      maxClientIdBytes: 64,
      firstPacketTimeoutMs: 5000,
      placement: 'weighted',
    });
    const dump = await envoy.getJson('/config_dump?resource=ecds_filters');
    const tcp = (dump.configs ?? []).find((c: any) => c.ecds_filter?.name === 'mqtt.tcp_proxy')?.ecds_filter?.typed_config;
    expect(tcp).toMatchObject({ upstream_connect_mode: 'ON_DOWNSTREAM_DATA', max_early_data_bytes: 16384 });
    const [stream] = plane.xdsStreams();
    expect(stream.types[EXTENSION_CONFIG]?.nackedVersion).toBeUndefined();
  });

  it('closes a peer that does not speak MQTT and counts it', async () => {
    const received = await sendAndWaitClose(port, Buffer.from('GET / HTTP/1.1\r\nHost: broker\r\n\r\n'));
    expect(received.length).toBe(0);
    expect(await counter('mqtt_connect_refused_total.reason.not_mqtt')).toBe(1);
  });

  it('lets a real MQTT client connect through, and its messages flow', async () => {
    held = await connectClient(port, `held-${mode}`);
    held.on('close', () => (heldClosed = true));
    expect(await roundTrip(held, `ecds/${mode}/before`)).toBe(`via ecds/${mode}/before`);
    expect(await counter('mqtt_connect_total.protocol_version.4')).toBeGreaterThanOrEqual(1);
  });

  it('applies a changed setting to new connections over ECDS, keeping the established client and the Listener', async () => {
    const modified = await stat('listener_manager.listener_modified');
    const listenerVersion = (await envoy.configDumpVersions()).listeners.mqtt;
    const reloads = await stat(`extension_config_discovery.network_filter.${FILTER}.config_reload`);
    const active = await stat('listener.mqtt.downstream_cx_active');

    writePolicy(policy(8));
    await waitFor(async () => (await filterConfiguration())?.maxClientIdBytes === 8, {
      timeoutMs: 20_000,
      what: 'maxClientIdBytes 8 in Envoy',
    });
    expect(await stat(`extension_config_discovery.network_filter.${FILTER}.config_reload`)).toBeGreaterThan(reloads);
    expect(await stat('listener_manager.listener_modified')).toBe(modified);
    expect((await envoy.configDumpVersions()).listeners.mqtt).toBe(listenerVersion);
    expect(await stat('listener_manager.total_filter_chains_draining')).toBe(0);

    // New connections get the new setting: a 9-byte id is refused, an 8-byte one is not.
    const refusedBefore = await counter('mqtt_connect_refused_total.reason.client_id_invalid');
    const received = await sendAndWaitClose(port, connectPacket({ level: 4, clientId: 'nine-byte' }));
    expect(received.length).toBe(0);
    expect(await counter('mqtt_connect_refused_total.reason.client_id_invalid')).toBe(refusedBefore + 1);
    const fresh = await connectClient(port, 'eight-by');
    await fresh.endAsync();

    // The client from before the change (a 9+ byte id) is still there and still works.
    expect(held?.connected).toBe(true);
    expect(heldClosed).toBe(false);
    expect(await roundTrip(held as mqtt.MqttClient, `ecds/${mode}/after`)).toBe(`via ecds/${mode}/after`);
    expect(await stat('listener.mqtt.downstream_cx_active')).toBe(active);
  });

  it('keeps the last good filter config when the policy has a bad value', async () => {
    const reloads = await stat(`extension_config_discovery.network_filter.${FILTER}.config_reload`);
    writePolicy(policy(0));
    const problems = async (): Promise<Array<{ path: string; message: string }>> =>
      ((await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as any).balancing.policyProblems;
    await waitFor(async () => (await problems()).some((p) => p.path === 'mqttFilter.maxClientIdBytes'), {
      timeoutMs: 20_000,
      what: 'the policy refused for mqttFilter.maxClientIdBytes',
    });
    expect((await problems())[0].message).toContain('1..65535');
    expect(await filterConfiguration()).toMatchObject({ maxClientIdBytes: 8 });
    expect(await stat(`extension_config_discovery.network_filter.${FILTER}.config_reload`)).toBe(reloads);
    const [stream] = plane.xdsStreams();
    expect(stream.types[LISTENER]?.nackedVersion).toBeUndefined();
    expect(heldClosed).toBe(false);
  });
});
