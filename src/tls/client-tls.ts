// HTTPS from the control plane to the brokers' agents (and to https metrics URLs): the
// operator's CA instead of the system's, a client certificate for agents that require mTLS,
// and optionally one name every agent certificate must carry, so that the agent token goes
// only to holders of a certificate the operator issued. The files are checked at start and
// re-read while running: a changed good set reaches new connections, a bad one is refused
// and logged, and the last good set stays in use.
import { createHash } from 'node:crypto';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../util/log';
import { fail, formatProblems, ok, type Problem, type Result } from '../util/result';
import { checkPair, parseCertificates } from './pem-check';
import { readPem } from './read-pem';
import { RefusalReport } from './refusal-report';

export interface ClientTlsFiles {
  /** PEM CA bundle the servers' certificates must chain to; '' = the system CAs. */
  readonly caFile: string;
  /** PEM client certificate and key; both '' = none. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The name the server certificates must carry, instead of the URL's host; '' = the URL's host. */
  readonly serverName: string;
}

/** The part of fetch the agent client and the scraper use. */
export interface HttpInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Never followed: a 3xx comes back as itself. */
  readonly redirect: 'manual';
}
export type HttpFetch = (url: string, init: HttpInit) => Promise<Response>;

export interface ClientTlsOptions {
  readonly files: ClientTlsFiles;
  /** The settings' prefix for problems and logs, e.g. `agent.tls`. */
  readonly setting: string;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly refreshMs?: number;
  readonly nowMs?: () => number;
}

interface Material {
  readonly agent: https.Agent;
  readonly hash: string;
}

/** Statuses whose Response may have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export class ClientTls {
  private current: Material | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly report = new RefusalReport();
  private readonly refusals: Counter<'code'> | undefined;

  constructor(private readonly opts: ClientTlsOptions) {
    if (opts.registry) {
      this.refusals = new Counter({
        name: 'mqtt_xds_agent_tls_refused_total',
        help: 'Agent TLS client files refused (the last good set stays in use), by problem code',
        labelNames: ['code'],
        registers: [opts.registry],
      });
    }
  }

  /** Reads and checks the files once; the control plane does not start with bad ones. */
  load(): Result<void> {
    const m = this.read();
    if (!m.ok) return m;
    this.current = { agent: new https.Agent(m.value.options), hash: m.value.hash };
    return ok(undefined);
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), this.opts.refreshMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.current?.agent.destroy();
  }

  /** Re-reads the files; a changed good set is used by the next request. */
  refresh(): void {
    const m = this.read();
    if (!m.ok) {
      if (!this.report.failed(m.problems)) return;
      for (const p of m.problems) this.refusals?.inc({ code: p.code });
      this.opts.logger.error(`${this.opts.setting} files refused; the last good set stays in use`, {
        problems: formatProblems(m.problems),
      });
      return;
    }
    this.report.succeeded();
    if (m.value.hash === this.current?.hash) return;
    const old = this.current;
    this.current = { agent: new https.Agent(m.value.options), hash: m.value.hash };
    this.opts.logger.info(`${this.opts.setting} files changed; new connections use them`);
    // Requests under way on the old agent finish; its idle sockets go.
    setTimeout(() => old?.agent.destroy(), 60_000).unref();
  }

  /** fetch for http: and https: URLs; https: ones use these files. */
  readonly fetch: HttpFetch = (url, init) => {
    if (!url.startsWith('https:')) return fetch(url, init);
    const m = this.current;
    if (!m) return Promise.reject(new Error(`${this.opts.setting}: not loaded`));
    return request(url, init, m.agent);
  };

  /** Reads and checks the files (every time: a certificate in use can expire); the agent is built only for a changed set. */
  private read(): Result<{ readonly options: https.AgentOptions; readonly hash: string }> {
    const { files, setting } = this.opts;
    const problems: Problem[] = [];
    const ca = files.caFile === '' ? undefined : readPem(files.caFile, `${setting}.caFile`);
    const cert = files.certFile === '' ? undefined : readPem(files.certFile, `${setting}.certFile`);
    const key = files.keyFile === '' ? undefined : readPem(files.keyFile, `${setting}.keyFile`);
    for (const r of [ca, cert, key]) if (r && !r.ok) problems.push(...r.problems);
    if (problems.length > 0) return fail(problems);
    if (ca?.ok) {
      const cas = parseCertificates(ca.value, `${setting}.caFile`);
      if (!cas.ok) return cas;
      const notCa = cas.value.findIndex((c) => !c.ca);
      if (notCa >= 0) {
        return fail([
          {
            code: 'TLS_NOT_A_CA',
            path: `${setting}.caFile`,
            message: `certificate ${notCa} (${cas.value[notCa].subject.replace(/\n/g, ', ')}) is not a CA certificate`,
          },
        ]);
      }
    }
    if (cert?.ok && key?.ok) {
      const pair = checkPair({
        certPem: cert.value,
        keyPem: key.value,
        nowMs: (this.opts.nowMs ?? Date.now)(),
        path: `${setting}.certFile`,
      });
      if (!pair.ok) return pair;
    }
    const hash = createHash('sha256');
    for (const r of [ca, cert, key]) hash.update(r?.ok ? r.value : '').update('\0');
    const serverName = files.serverName;
    const options: https.AgentOptions = {
      keepAlive: true,
      ...(ca?.ok ? { ca: ca.value } : {}),
      ...(cert?.ok && key?.ok ? { cert: cert.value, key: key.value } : {}),
      ...(serverName === ''
        ? {}
        : {
            servername: serverName,
            checkServerIdentity: (_host: string, peer: PeerCertificate) => checkServerIdentity(serverName, peer),
          }),
    };
    return ok({ options, hash: hash.digest('hex') });
  }
}

/** One request over node:https, answered as a fetch Response; never follows a redirect. */
function request(url: string, init: HttpInit, agent: https.Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    const req = https.request(url, { method: init.method ?? 'GET', headers: init.headers, agent, ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      try {
        const body = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (body === null) res.resume();
        resolve(new Response(body, { status, headers }));
      } catch (err) {
        res.destroy();
        reject(new TypeError('fetch failed', { cause: err }));
      }
    });
    // As fetch does: an abort rejects with the signal's reason (a TimeoutError for AbortSignal.timeout),
    // anything else with "fetch failed" and the socket error as its cause.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the reason is whatever abort() was given
    req.on('error', (err) => reject(signal?.aborted ? (signal.reason ?? err) : new TypeError('fetch failed', { cause: err })));
    req.end(init.body);
  });
}
