import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ClientTls, type ClientTlsFiles } from '../../../src/tls';
import { createLogger } from '../../../src/util/log';
import { TestCa, type Pem } from '../../support/certs';

// The control plane's HTTPS client towards the agents, against real TLS servers on loopback
// with certificates openssl makes here.
describe('ClientTls', () => {
  const ca = new TestCa('agents CA');
  const clientCa = new TestCa('control plane CA');
  const otherCa = new TestCa('another CA');
  const agentByIp = ca.issue('agent-ip', { commonName: 'agent', san: ['IP:127.0.0.1'] });
  const agentByName = ca.issue('agent-name', { commonName: 'agent', san: ['DNS:hivemq-agent.mqtt.svc'] });
  const controlPlane = clientCa.issue('control-plane', { commonName: 'mqtt-xds', usage: 'client' });
  const servers: https.Server[] = [];
  const clients: ClientTls[] = [];
  const lines: string[] = [];
  const logger = createLogger('debug', {}, (l) => lines.push(l));

  afterAll(async () => {
    for (const c of clients) c.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  async function serve(pem: Pem, opts: { clientCa?: string; status?: number; location?: string } = {}): Promise<string> {
    const server = https.createServer(
      {
        cert: pem.cert,
        key: pem.key,
        ...(opts.clientCa ? { ca: fs.readFileSync(opts.clientCa, 'utf8'), requestCert: true, rejectUnauthorized: true } : {}),
      },
      (req, res) => {
        res.writeHead(opts.status ?? 200, { 'content-type': 'text/plain', ...(opts.location ? { location: opts.location } : {}) });
        res.end(`hello ${req.method} ${req.headers.authorization ?? ''}`);
      },
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}/agent/v1/health`;
  }

  function client(files: Partial<ClientTlsFiles>): ClientTls {
    const c = new ClientTls({ files: { caFile: '', certFile: '', keyFile: '', serverName: '', ...files }, setting: 'agent.tls', logger });
    const loaded = c.load();
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    clients.push(c);
    return c;
  }

  const get = async (c: ClientTls, url: string): Promise<string> => {
    const res = await c.fetch(url, { headers: { authorization: 'Bearer t' }, redirect: 'manual', signal: AbortSignal.timeout(5000) });
    return `${res.status} ${await res.text()}`;
  };
  const causeOf = async (p: Promise<unknown>): Promise<string> => {
    const err = (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { message?: string; cause?: { code?: string } } | undefined;
    expect(err).toBeDefined();
    return `${err?.message} ${err?.cause?.code ?? ''}`;
  };

  it('verifies agents against the configured CA', async () => {
    const url = await serve(agentByIp);
    expect(await get(client({ caFile: ca.ca.certFile }), url)).toBe('200 hello GET Bearer t');
    // The system CAs do not know this one; neither does another CA.
    expect(await causeOf(get(client({ caFile: otherCa.ca.certFile }), url))).toMatch(/fetch failed.*(UNABLE_TO_VERIFY|SELF_SIGNED)/);
  });

  it('with serverName, checks that one name instead of the URL host', async () => {
    const url = await serve(agentByName);
    expect(await causeOf(get(client({ caFile: ca.ca.certFile }), url))).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(await get(client({ caFile: ca.ca.certFile, serverName: 'hivemq-agent.mqtt.svc' }), url)).toBe('200 hello GET Bearer t');
    expect(await causeOf(get(client({ caFile: ca.ca.certFile, serverName: 'other.mqtt.svc' }), url))).toMatch(
      /ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });

  it('presents the client certificate to an agent that requires mTLS', async () => {
    const url = await serve(agentByIp, { clientCa: clientCa.ca.certFile });
    expect(await get(client({ caFile: ca.ca.certFile, certFile: controlPlane.certFile, keyFile: controlPlane.keyFile }), url)).toBe(
      '200 hello GET Bearer t',
    );
    await expect(get(client({ caFile: ca.ca.certFile }), url)).rejects.toThrow();
  });

  it('follows no redirect, and an abort rejects as fetch does', async () => {
    const target = await serve(agentByIp);
    const redirecting = await serve(agentByIp, { status: 302, location: target });
    const c = client({ caFile: ca.ca.certFile });
    const res = await c.fetch(redirecting, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(target);
    const gone = new AbortController();
    gone.abort(new DOMException('deadline', 'TimeoutError'));
    await expect(c.fetch(target, { redirect: 'manual', signal: gone.signal })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('refuses bad files at load with coded problems naming the setting', () => {
    const bad = (files: Partial<ClientTlsFiles>): string[] => {
      const r = new ClientTls({
        files: { caFile: '', certFile: '', keyFile: '', serverName: '', ...files },
        setting: 'agent.tls',
        logger,
      }).load();
      return r.ok ? [] : r.problems.map((p) => `${p.code} ${p.path}`);
    };
    expect(bad({ caFile: path.join(ca.dir, 'missing.crt') })).toEqual(['TLS_FILE_UNREADABLE agent.tls.caFile']);
    expect(bad({ caFile: agentByIp.certFile })).toEqual(['TLS_NOT_A_CA agent.tls.caFile']);
    expect(bad({ certFile: controlPlane.certFile, keyFile: agentByIp.keyFile })).toEqual(['TLS_KEY_MISMATCH agent.tls.certFile.key']);
  });

  it('uses changed files for new connections, and keeps the last good set when the new one is bad', async () => {
    const url = await serve(agentByIp);
    const dir = fs.mkdtempSync(path.join(ca.dir, 'rotate-'));
    const caFile = path.join(dir, 'ca.crt');
    fs.writeFileSync(caFile, otherCa.ca.cert);
    const c = client({ caFile });
    await expect(get(c, url)).rejects.toThrow();
    fs.writeFileSync(caFile, ca.ca.cert);
    c.refresh();
    expect(await get(c, url)).toBe('200 hello GET Bearer t');
    fs.writeFileSync(caFile, 'not a certificate\n');
    c.refresh();
    c.refresh(); // a failure is reported once it is seen twice (a rotation written file by file)
    expect(lines.filter((l) => l.includes('agent.tls files refused'))).toHaveLength(1);
    expect(await get(c, url)).toBe('200 hello GET Bearer t');
  });
});
