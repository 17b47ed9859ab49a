// The MQTT Wasm filter in the real Envoy in front of real HiveMQ CE, which speaks MQTT 5 (the
// aedes broker of mqtt-wasm-filter.test.ts speaks 3.1.1 and 3.1 only): mqtt.js clients of both
// versions hold full sessions through the filter.
import mqtt from 'mqtt';
import { randomBytes } from 'node:crypto';
import { startHiveMQ, type HiveMQBroker } from '../support/hivemq';
import { startStaticEnvoy, type StaticEnvoy } from '../support/envoy-static';
import { mqttFilterBootstrap } from '../support/mqtt-filter-envoy';

const LISTENER = 'mqtt_wasm_hivemq';

function connectClient(port: number, options: mqtt.IClientOptions): Promise<mqtt.MqttClient & { connack?: mqtt.IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 15_000, ...options });
    client.once('connect', (connack) => resolve(Object.assign(client, { connack })));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error(`${options.clientId}: closed before CONNACK`)));
  });
}

describe('MQTT Wasm filter in the real Envoy before HiveMQ', () => {
  let hivemq: HiveMQBroker;
  let envoy: StaticEnvoy;
  let port: number;
  const counter = async (name: string): Promise<number> => (await envoy.admin.stat(`wasmcustom.${name}`)) ?? -1;

  beforeAll(async () => {
    hivemq = await startHiveMQ({ token: randomBytes(16).toString('hex'), brokerName: 'hivemq-wasm-filter' });
    envoy = await startStaticEnvoy(
      mqttFilterBootstrap({ listener: LISTENER, brokerPort: hivemq.mqttPort, filterConfig: { firstPacketTimeoutMs: 5000 } }),
    );
    port = await envoy.listenerPort(LISTENER);
  }, 180_000);

  afterAll(async () => {
    await envoy?.stop();
    await hivemq?.stop();
  });

  it.each([
    ['5', 5, 'wasm-hivemq-5'],
    ['3.1.1', 4, 'wasm-hivemq-311'],
  ] as const)('lets an MQTT %s client connect through and round-trip a message', async (_name, version, clientId) => {
    const client = await connectClient(port, { clientId, protocolVersion: version });
    try {
      const got = new Promise<string>((resolve) => client.on('message', (_topic, payload) => resolve(payload.toString())));
      await client.subscribeAsync(`wasm/${clientId}`, { qos: 1 });
      await client.publishAsync(`wasm/${clientId}`, `hello over MQTT ${version}`, { qos: 1 });
      expect(await got).toBe(`hello over MQTT ${version}`);
    } finally {
      await client.endAsync();
    }
    expect(await counter(`mqtt_connect_total.protocol_version.${version}`)).toBe(1);
  });

  it('passes an MQTT 5 client that leaves its id to the server, which assigns one', async () => {
    const client = await connectClient(port, { clientId: '', protocolVersion: 5, clean: true });
    try {
      // HiveMQ names the id it assigned in the CONNACK's Assigned Client Identifier property.
      expect(client.connack?.properties?.assignedClientIdentifier).toMatch(/.+/);
    } finally {
      await client.endAsync();
    }
    expect(await counter('mqtt_connect_total.protocol_version.5')).toBe(2);
  });
});
