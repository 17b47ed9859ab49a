import type { Problem } from '../util/result';
import type { Config, DeepPartial, SettingKey } from './config-types';
import { checkValue } from './setting-fields';
import { SETTINGS } from './settings';
import { parseProxyTlvs } from './proxy-protocol';

/** The defaults from the table, with paths resolved against `cwd`; frozen. */
export function defaultConfig(cwd: string = process.cwd()): Config {
  const tree: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const checked = checkValue(s, s.default, typeof s.default === 'number' ? 'yaml' : 'text', cwd);
    // A default that fails its own schema is a bug in the table, not an input error.
    if (!checked.ok) throw new Error(`default of ${s.key} is invalid: ${checked.reason}`);
    setIn(tree, s.key, checked.value);
  }
  return deepFreeze(tree as unknown as Config);
}

/**
 * `base` with some values replaced, frozen. For tests and the composition root: values
 * come from code, so they are not range-checked here; `validateConfig` does that on demand.
 */
export function withOverrides(base: Config, overrides: DeepPartial<Config>): Config {
  return deepFreeze(merge(base, overrides) as Config);
}

/** Every problem a complete config has: values outside their ranges and cross-field rules. */
export function validateConfig(config: Config): Problem[] {
  const problems: Problem[] = [];
  for (const s of SETTINGS) {
    const value = getIn(config, s.key);
    const checked = checkValue(s, value, 'yaml', '/');
    if (!checked.ok) problems.push({ code: checked.code, path: s.key, message: checked.reason });
  }
  return problems.length > 0 ? problems : crossFieldProblems(config);
}

/**
 * Rules that involve two settings. `origin` names where a value came from ("flag
 * --cluster-max-connections"), so the message points at what to change.
 */
export function crossFieldProblems(config: Config, origin: (key: SettingKey) => string = () => 'default'): Problem[] {
  const problems: Problem[] = [];
  const hc = config.cluster.healthCheck;
  const said = (key: SettingKey, value: number | string): string =>
    `${key} (${typeof value === 'string' ? JSON.stringify(value) : value}, from ${origin(key)})`;
  if (hc.timeoutMs >= hc.intervalMs) {
    problems.push({
      code: 'CONFIG_HEALTH_TIMEOUT_NOT_BELOW_INTERVAL',
      path: 'cluster.healthCheck.timeoutMs',
      message:
        `${said('cluster.healthCheck.timeoutMs', hc.timeoutMs)} must be below ` +
        `${said('cluster.healthCheck.intervalMs', hc.intervalMs)}, or checks would overlap`,
    });
  }
  const c = config.cluster;
  if (c.perHostMaxConnections > c.maxConnections) {
    problems.push({
      code: 'CONFIG_PER_HOST_ABOVE_MAX',
      path: 'cluster.perHostMaxConnections',
      message:
        `${said('cluster.perHostMaxConnections', c.perHostMaxConnections)} must not exceed ` +
        `${said('cluster.maxConnections', c.maxConnections)}`,
    });
  }
  problems.push(...xdsTlsProblems(config, said));
  const lt = config.listener.tls;
  if (lt.secret === '')
    problems.push(...pairProblem('listener.tls', lt, 'CONFIG_LISTENER_TLS_PAIR', 'give both for MQTT over TLS, or neither for plaintext'));
  problems.push(...listenerTlsSecretProblems(lt, said));
  if (lt.clientCaFile !== '' && lt.certFile === '' && lt.secret === '') {
    problems.push({
      code: 'CONFIG_LISTENER_TLS_NEEDS_CERT',
      path: 'listener.tls.clientCaFile',
      message:
        'listener.tls.clientCaFile needs listener.tls.certFile and listener.tls.keyFile: client certificates are checked in a TLS handshake',
    });
  }
  if (lt.clientSubjectAltNames !== '' && lt.clientCaFile === '' && lt.clientCaSecret === '') {
    problems.push({
      code: 'CONFIG_LISTENER_TLS_SAN_NEEDS_CA',
      path: 'listener.tls.clientSubjectAltNames',
      message:
        'listener.tls.clientSubjectAltNames needs listener.tls.clientCaFile (or listener.tls.clientCaSecret): SANs are matched on client certificates the CA signed',
    });
  }
  problems.push(...proxyProtocolProblems(config.cluster.proxyProtocol));
  problems.push(...pairProblem('agent.tls', config.agent.tls, 'CONFIG_AGENT_TLS_PAIR', 'give both for a client certificate, or neither'));
  const k = config.discovery.kubernetes;
  if (config.discovery.source === 'kubernetes' && (k.service === '') === (k.labelSelector === '')) {
    problems.push({
      code: 'CONFIG_K8S_SELECTION',
      path: 'discovery.kubernetes.service',
      message:
        `with discovery.source kubernetes, set exactly one of ${said('discovery.kubernetes.service', k.service)} ` +
        `and ${said('discovery.kubernetes.labelSelector', k.labelSelector)}`,
    });
  }
  if (config.balancing.policyFile !== '' && config.balancing.policyConfigMap !== '') {
    problems.push({
      code: 'CONFIG_TWO_POLICY_SOURCES',
      path: 'balancing.policyConfigMap',
      message:
        `set at most one of ${said('balancing.policyFile', config.balancing.policyFile)} ` +
        `and ${said('balancing.policyConfigMap', config.balancing.policyConfigMap)}`,
    });
  }
  const le = config.leaderElection;
  if (le.renewIntervalMs * 2 > le.leaseDurationMs) {
    problems.push({
      code: 'CONFIG_LEASE_RENEW_TOO_SLOW',
      path: 'leaderElection.renewIntervalMs',
      message:
        `${said('leaderElection.renewIntervalMs', le.renewIntervalMs)} must be at most half of ` +
        `${said('leaderElection.leaseDurationMs', le.leaseDurationMs)}, or one slow renewal loses the lease`,
    });
  }
  const sc = config.scrape;
  if (sc.timeoutMs >= sc.intervalMs) {
    problems.push({
      code: 'CONFIG_SCRAPE_TIMEOUT_NOT_BELOW_INTERVAL',
      path: 'scrape.timeoutMs',
      message:
        `${said('scrape.timeoutMs', sc.timeoutMs)} must be below ` +
        `${said('scrape.intervalMs', sc.intervalMs)}, or scrapes of one broker would overlap`,
    });
  }
  return problems;
}

export function setIn(tree: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

export function getIn(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Copies `base`, taking each leaf from `over` when given; only keys of `base` survive. */
function merge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null) return over === undefined ? base : over;
  const out: Record<string, unknown> = {};
  const patch = (typeof over === 'object' && over !== null ? over : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(base)) out[k] = merge(v, patch[k]);
  return out;
}

/** xDS carries every broker address and can stall drains: plaintext beyond loopback only when chosen. */
function xdsTlsProblems(config: Config, said: (key: SettingKey, value: number | string) => string): Problem[] {
  const { tls, host, plaintext } = config.xds;
  const problems: Problem[] = pairProblem('xds.tls', tls, 'CONFIG_XDS_TLS_PAIR', 'give both, or neither for plaintext');
  if (tls.certFile === '' && (tls.clientCaFile !== '' || tls.nodeIdentity !== 'off')) {
    problems.push({
      code: 'CONFIG_XDS_TLS_NEEDS_CERT',
      path: tls.clientCaFile !== '' ? 'xds.tls.clientCaFile' : 'xds.tls.nodeIdentity',
      message: 'mTLS settings need the server certificate: set xds.tls.certFile and xds.tls.keyFile',
    });
  }
  if (tls.nodeIdentity !== 'off' && tls.clientCaFile === '') {
    problems.push({
      code: 'CONFIG_XDS_NODE_IDENTITY_NEEDS_MTLS',
      path: 'xds.tls.nodeIdentity',
      message: `${said('xds.tls.nodeIdentity', tls.nodeIdentity)} needs client certificates: set xds.tls.clientCaFile`,
    });
  }
  if (tls.certFile === '' && plaintext !== 'allow' && !isLoopbackAddress(host)) {
    problems.push({
      code: 'CONFIG_XDS_PLAINTEXT',
      path: 'xds.host',
      message:
        `${said('xds.host', host)} is reachable from the network, and plaintext xDS gives anyone there every broker address ` +
        'under any node id: set xds.tls.certFile and xds.tls.keyFile (and xds.tls.clientCaFile for mTLS), ' +
        'or --xds-plaintext=allow to choose plaintext explicitly',
    });
  }
  return problems;
}

/**
 * listener.tls.secret is one source of the whole listener material: a file beside it would
 * leave two answers to "which certificate is in force", so each one given is refused.
 */
function listenerTlsSecretProblems(lt: Config['listener']['tls'], said: (key: SettingKey, value: number | string) => string): Problem[] {
  if (lt.secret === '') {
    if (lt.clientCaSecret === '') return [];
    return [
      {
        code: 'CONFIG_LISTENER_TLS_CA_SECRET_NEEDS_SECRET',
        path: 'listener.tls.clientCaSecret',
        message: `${said('listener.tls.clientCaSecret', lt.clientCaSecret)} needs listener.tls.secret: with certificate files, give the client CA as listener.tls.clientCaFile`,
      },
    ];
  }
  const files = [
    ['listener.tls.certFile', lt.certFile, 'set one of them'],
    ['listener.tls.keyFile', lt.keyFile, 'set one of them'],
    ['listener.tls.clientCaFile', lt.clientCaFile, 'with a Secret, give the client CA as listener.tls.clientCaSecret'],
  ] as const;
  return files
    .filter(([, value]) => value !== '')
    .map(([key, value, instead]) => ({
      code: 'CONFIG_LISTENER_TLS_TWO_SOURCES',
      path: key,
      message: `${said('listener.tls.secret', lt.secret)} and ${said(key, value)} are two sources of the MQTT listener's TLS material: ${instead}`,
    }));
}

/** A certificate without its key, or a key without its certificate, under `<prefix>.certFile` / `<prefix>.keyFile`. */
function pairProblem(
  prefix: 'xds.tls' | 'listener.tls' | 'agent.tls',
  files: { readonly certFile: string; readonly keyFile: string },
  code: string,
  instead: string,
): Problem[] {
  if ((files.certFile === '') === (files.keyFile === '')) return [];
  const missing = files.certFile === '' ? 'certFile' : 'keyFile';
  return [{ code, path: `${prefix}.${missing}`, message: `${prefix}.certFile and ${prefix}.keyFile go together: ${instead}` }];
}

function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** The TLV list parses, and is given only with v2 (v1 headers have no TLVs). */
function proxyProtocolProblems(pp: Config['cluster']['proxyProtocol']): Problem[] {
  if (pp.tlvs === '') return [];
  if (pp.version !== 'v2') {
    return [
      {
        code: 'CONFIG_PROXY_TLVS_NEED_V2',
        path: 'cluster.proxyProtocol.tlvs',
        message: `cluster.proxyProtocol.tlvs needs cluster.proxyProtocol.version v2 (it is ${pp.version}): only PROXY v2 headers carry TLVs`,
      },
    ];
  }
  return parseProxyTlvs(pp.tlvs, 'cluster.proxyProtocol.tlvs').problems;
}
