import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig, withOverrides } from '../../../src/config';
import { defaultPolicy, parsePolicy } from '../../../src/config/policy';
import { BUILT_MQTT_FILTER, ModelBuilder, readMqttFilterModule } from '../../../src/publishing';
import { buildResources, validateResources } from '../../../src/translation';
import { silentLogger } from '../../../src/util/log';
import type { PairMaterial } from '../../../src/tls';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-filter-module-'));
/** A stand-in module: the model carries it, no Envoy loads it here. */
const MODULE = { base64: 'AGFzbQEAAAA=', sha256: 'x' };
const plan = { endpoints: [{ name: 'b', address: '10.0.0.1', port: 1883, weight: 1, health: 'serving' as const }] };

function read(text: string): ReturnType<typeof defaultPolicy> {
  const r = parsePolicy(text, 'p.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

describe('the MQTT filter module', () => {
  it('reads the module scripts/setup builds, as base64 with its digest', () => {
    const read = readMqttFilterModule(BUILT_MQTT_FILTER);
    if (!('module' in read)) throw new Error(read.problem);
    expect(Buffer.from(read.module.base64, 'base64').subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    expect(read.module.bytes).toBe(fs.statSync(BUILT_MQTT_FILTER).size);
    expect(read.module.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a missing file and a file that is not WebAssembly, naming the file', () => {
    const text = path.join(dir, 'filter.txt');
    fs.writeFileSync(text, 'not a module');
    expect(readMqttFilterModule(text)).toEqual({ problem: `${text} is not a WebAssembly module` });
    expect(readMqttFilterModule(path.join(dir, 'none.wasm'))).toMatchObject({ problem: expect.stringContaining('none.wasm') });
  });

  it('puts the policy settings and the module on the listener only while the policy turns the filter on', () => {
    let policy = defaultPolicy();
    const asked: number[] = [];
    const builder = new ModelBuilder({
      config: defaultConfig('/tmp'),
      policy: () => policy,
      logger: silentLogger,
      mqttFilterModule: () => (asked.push(1), MODULE),
    });
    expect(builder.build(plan).listener.mqttFilter).toBeUndefined();
    expect(asked).toHaveLength(0);
    const on = parsePolicy('mqttFilter: { enabled: true, maxClientIdBytes: 32 }\n', 'p.yaml');
    if (!on.ok) throw new Error('policy');
    policy = on.value;
    const m = builder.build(plan);
    expect(m.listener.mqttFilter).toEqual({
      maxConnectBytes: 16384,
      maxClientIdBytes: 32,
      firstPacketTimeoutMs: 10000,
      placement: 'weighted',
      inspectPublish: false,
      maxPublishPayloadBytes: 0,
      topicPrefixes: [],
      module: MODULE,
    });
    expect(m.cluster.lbPolicy).toBe('ROUND_ROBIN');
    expect(validateResources(buildResources(m))).toEqual([]);
  });

  it('turns the broker cluster into Maglev in sticky placement, and back', () => {
    let policy = read('mqttFilter: { enabled: true, placement: sticky }\n');
    const builder = new ModelBuilder({
      config: defaultConfig('/tmp'),
      policy: () => policy,
      logger: silentLogger,
      mqttFilterModule: () => MODULE,
    });
    const sticky = builder.build(plan);
    expect(sticky.listener.mqttFilter?.placement).toBe('sticky');
    expect(sticky.cluster.lbPolicy).toBe('MAGLEV');
    expect(validateResources(buildResources(sticky))).toEqual([]);
    // The WebSocket listener starts with an HTTP upgrade: no MQTT filter there, and a weighted cluster.
    const wsConfig = withOverrides(defaultConfig('/tmp'), { listener: { websocketPort: 8083 } });
    const ws = new ModelBuilder({ config: wsConfig, policy: () => policy, logger: silentLogger, mqttFilterModule: () => MODULE }).build({
      endpoints: [{ ...plan.endpoints[0], websocketPort: 8000 }],
    });
    expect(ws.listener.mqttFilter?.placement).toBe('sticky');
    expect(ws.websocket?.listener.mqttFilter).toBeUndefined();
    expect(ws.websocket?.cluster.lbPolicy).toBe('ROUND_ROBIN');
    // Placement without the filter means nothing: no filter sets a key, so the cluster stays weighted.
    policy = read('mqttFilter: { enabled: false, placement: sticky }\n');
    expect(builder.build(plan).cluster.lbPolicy).toBe('ROUND_ROBIN');
  });

  it('gives the sticky salts to a sticky chain only', () => {
    let policy = read('mqttFilter: { enabled: true, placement: sticky }\n');
    const builder = new ModelBuilder({
      config: defaultConfig('/tmp'),
      policy: () => policy,
      logger: silentLogger,
      mqttFilterModule: () => MODULE,
      stickySalts: () => '0123456789abcdef:7',
    });
    expect(builder.build(plan).listener.mqttFilter?.saltedIds).toBe('0123456789abcdef:7');
    policy = read('mqttFilter: { enabled: true, placement: weighted }\n');
    expect(builder.build(plan).listener.mqttFilter).not.toHaveProperty('saltedIds');
  });

  it('gives a tenant that sets placement sticky a Maglev cluster of its own, the shared cluster staying weighted', () => {
    const r = parsePolicy(
      [
        'mqttFilter: { enabled: true }',
        'tenants:',
        '  acme:',
        '    serverNames: [acme.example.com]',
        '    certFile: /c',
        '    keyFile: /k',
        '    mqttFilter: { placement: sticky }',
        '',
      ].join('\n'),
      'p.yaml',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const policy = r.value;
    const material = { pair: { certChain: 'CERT', privateKey: 'KEY' }, hash: 'h' } as unknown as PairMaterial;
    const m = new ModelBuilder({
      config: defaultConfig('/tmp'),
      policy: () => policy,
      logger: silentLogger,
      mqttFilterModule: () => MODULE,
      tenantTls: () => material,
    }).build(plan);
    expect(m.cluster.lbPolicy).toBe('ROUND_ROBIN');
    expect(m.listener.mqttFilter?.placement).toBe('weighted');
    expect(m.tenants?.map((t) => [t.name, t.cluster.lbPolicy, t.listener.mqttFilter?.placement])).toEqual([['acme', 'MAGLEV', 'sticky']]);
    // The tenant's filter labels its counters with the tenant's name; the shared one has no label.
    expect(m.tenants?.[0].listener.mqttFilter?.tenant).toBe('acme');
    expect(m.listener.mqttFilter).not.toHaveProperty('tenant');
  });
});
