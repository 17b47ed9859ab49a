// The HiveMQ agent over HTTPS with mTLS, against real HiveMQ CE and the control plane's own
// agent client and scraper: the token goes only to an agent whose certificate the
// operator's CA issued for the agent name, and only a caller with a certificate from the
// control plane's CA gets an answer. Certificates are made by openssl here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { randomBytes, X509Certificate } from 'node:crypto';
import mqtt, { type IDisconnectPacket, type MqttClient } from 'mqtt';
import { AgentHttpClient } from '../../src/rebalance/agent-client';
import { fetchPage } from '../../src/scraping/fetch-page';
import { ClientTls, type ClientTlsFiles } from '../../src/tls';
import { silentLogger } from '../../src/util/log';
import { TestCa } from '../support/certs';
import { startHiveMQ, type HiveMQBroker } from '../support/hivemq';
import { waitFor } from '../support/wait';

const TOKEN = randomBytes(24).toString('hex');
const AGENT_NAME = 'hivemq-agent.mqtt.svc';
const USE_ANOTHER_SERVER = 0x9c;

const agentsCa = new TestCa('agents CA');
const controlPlaneCa = new TestCa('control plane CA');
const strangerCa = new TestCa('stranger CA');
// The agent's files sit in a folder of their own, which the rotation test rewrites.
const tlsDir = fs.mkdtempSync(path.join(agentsCa.dir, 'agent-tls-'));
const agentCert = path.join(tlsDir, 'tls.crt');
const agentKey = path.join(tlsDir, 'tls.key');
const controlPlane = controlPlaneCa.issue('control-plane', { commonName: 'mqtt-xds', usage: 'client' });
const stranger = strangerCa.issue('stranger', { commonName: 'mqtt-xds', usage: 'client' });

let broker: HiveMQBroker;
const clients: ClientTls[] = [];
const opened: MqttClient[] = [];

function install(name: string): string {
  const pem = agentsCa.issue(name, { commonName: 'hivemq agent', san: [`DNS:${AGENT_NAME}`] });
  fs.writeFileSync(`${agentCert}.tmp`, pem.cert);
  fs.writeFileSync(`${agentKey}.tmp`, pem.key);
  fs.renameSync(`${agentKey}.tmp`, agentKey);
  fs.renameSync(`${agentCert}.tmp`, agentCert);
  return new X509Certificate(pem.cert).serialNumber;
}

function tlsClient(files: Partial<ClientTlsFiles>): ClientTls {
  const c = new ClientTls({
    files: { caFile: agentsCa.ca.certFile, certFile: '', keyFile: '', serverName: AGENT_NAME, ...files },
    setting: 'agent.tls',
    logger: silentLogger,
  });
  const loaded = c.load();
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  clients.push(c);
  return c;
}

const withCertificate = (): Partial<ClientTlsFiles> => ({ certFile: controlPlane.certFile, keyFile: controlPlane.keyFile });
const agentClient = (c: ClientTls): AgentHttpClient => new AgentHttpClient({ token: TOKEN, timeoutMs: () => 10_000, fetch: c.fetch });

/** The serial of the certificate the agent serves to a new handshake now. */
function servedSerial(): Promise<string> {
  const port = Number(new URL(broker.agentUrl).port);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: AGENT_NAME, ca: agentsCa.ca.cert, cert: controlPlane.cert, key: controlPlane.key },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve(serial);
      },
    );
    socket.once('error', reject);
  });
}

let firstSerial = '';

beforeAll(async () => {
  firstSerial = install('agent-1');
  broker = await startHiveMQ({
    token: TOKEN,
    brokerName: 'hivemq-tls-test',
    tls: { certFile: agentCert, keyFile: agentKey, clientCaFile: controlPlaneCa.ca.certFile },
  });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  for (const c of clients) c.stop();
  await broker?.stop();
});

describe('the HiveMQ agent over HTTPS with mTLS', () => {
  it('serves https, and the control plane lists and moves a real client through it', async () => {
    expect(broker.agentUrl).toMatch(/^https:/);
    const clientId = `tls-moved-${randomBytes(3).toString('hex')}`;
    const mqttClient = await mqtt.connectAsync(broker.mqttUrl, {
      clientId,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    mqttClient.on('error', () => undefined);
    opened.push(mqttClient);
    const told = new Promise<IDisconnectPacket>((resolve) => mqttClient.once('disconnect', resolve));

    const agent = agentClient(tlsClient(withCertificate()));
    await waitFor(
      async () => {
        const list = await agent.listClients(broker.agentUrl, 100);
        return list.ok && list.value.clients.some((c) => c.clientId === clientId);
      },
      { timeoutMs: 15_000, what: 'the agent to list the client over https' },
    );
    const moved = await agent.disconnect(broker.agentUrl, [clientId], 'rebalance');
    expect(moved).toEqual({ ok: true, value: { disconnected: [clientId], notFound: [] } });
    expect((await told).reasonCode).toBe(USE_ANOTHER_SERVER);
  });

  it('gives nothing to a caller without a certificate from the control plane CA', async () => {
    for (const files of [{}, { certFile: stranger.certFile, keyFile: stranger.keyFile }]) {
      const r = await agentClient(tlsClient(files)).listClients(broker.agentUrl, 10);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('AGENT_CONNECT');
    }
    // Plain HTTP to the TLS port gets no answer either.
    const plain = await new AgentHttpClient({ token: TOKEN, timeoutMs: () => 5000 }).listClients(
      broker.agentUrl.replace('https:', 'http:'),
      10,
    );
    expect(plain.ok).toBe(false);
  });

  it('sends the token to no agent whose certificate is not for the agent name', async () => {
    const r = await agentClient(tlsClient({ ...withCertificate(), serverName: 'some-other-agent.mqtt.svc' })).listClients(
      broker.agentUrl,
      10,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('is scraped over https by the control plane scraper', async () => {
    const page = await fetchPage(`${broker.agentUrl}/metrics`, {
      fetch: tlsClient(withCertificate()).fetch,
      timeoutMs: 10_000,
      maxBodyBytes: 4 << 20,
      what: 'hivemq',
    });
    expect(page.ok).toBe(true);
    if (page.ok) expect(page.text).toMatch(/^com_hivemq_networking_connections_current /m);
  });

  it('serves a rotated certificate to new handshakes, and a bad rotation leaves the last good one', async () => {
    expect(await servedSerial()).toBe(firstSerial);
    const secondSerial = install('agent-2');
    // The agent checks its files every 10 s.
    await waitFor(async () => (await servedSerial()) === secondSerial, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the agent to serve the rotated certificate',
    });
    // A key from another pair: refused, the second certificate stays.
    fs.writeFileSync(agentKey, agentsCa.issue('agent-unrelated', { commonName: 'x', san: [`DNS:${AGENT_NAME}`] }).key);
    await waitFor(() => /TLS files changed but were refused/.test(broker.logs()), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the agent to refuse the mismatched key',
    });
    expect(broker.logs()).toMatch(/does not belong to the certificate/);
    expect(await servedSerial()).toBe(secondSerial);
    const list = await agentClient(tlsClient(withCertificate())).listClients(broker.agentUrl, 10);
    expect(list.ok).toBe(true);
  });
});
