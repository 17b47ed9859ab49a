// The `tenants:` section of the policy: SNI tenants on the MQTT listener, each with its own
// server names, certificate, broker pool and limits. docs/tenants.md.
import { BROKER_NAME, LABEL } from '../domain/broker';
import { MAX_TLVS, parseProxyTlvs } from './proxy-protocol';
import { TENANT_MQTT_FILTER, type MqttFilterPolicy } from './policy-mqtt-filter';
import { listOf, mapOf, name, numberIn, numberOr, oneOf, partial, section, type Reader } from './policy-schema';

export interface TenantPolicy {
  /** SNI names this tenant answers: exact (`acme.example.com`) or a leading wildcard (`*.acme.example.com`). */
  readonly serverNames: readonly string[];
  /** The tenant's certificate and key (PEM, leaf first), watched like listener.tls's. Not with `secret`. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** mTLS for this tenant: clients must present a certificate this CA bundle signed. */
  readonly clientCaFile?: string;
  /**
   * Instead of the files: a kubernetes.io/tls Secret (`name` in discovery.kubernetes.namespace,
   * or `namespace/name`) whose tls.crt and tls.key are watched through the API.
   */
  readonly secret?: string;
  /** With `secret`: a Secret (Opaque or kubernetes.io/tls) whose ca.crt is the client CA bundle. */
  readonly clientCaSecret?: string;
  /** With a client CA: a client certificate must carry one of these SANs (`TYPE:value`, a trailing `*` for a prefix). */
  readonly clientSubjectAltNames?: readonly string[];
  /** The tenant's broker pool, by name; absent (and no brokerLabels): every broker. */
  readonly brokers?: readonly string[];
  /** The tenant's pool, by label: the brokers carrying every one of these. Not with `brokers`. */
  readonly brokerLabels?: Readonly<Record<string, string>>;
  /** At most this many open client connections per Envoy; beyond it new ones are closed at once. Absent: no limit. */
  readonly maxConnections?: number;
  /** New connections per second per Envoy; absent or `off`: no limit. */
  readonly connectRate?: { readonly perSec: number | 'off'; readonly burst: number | 'auto' };
  /**
   * With cluster.proxyProtocol.version v2: TLVs (`TYPE=VALUE`, VALUE literal or one %SOURCE%
   * as in cluster.proxyProtocol.tlvs) added to the headers of this tenant's cluster,
   * replacing a setting's TLV of the same type. docs/proxy-protocol.md.
   */
  readonly proxyTlvs?: readonly string[];
  /** The MQTT filter on this tenant's chain: its keys over the policy's `mqttFilter:` (docs/mqtt-filter.md). */
  readonly mqttFilter?: Partial<MqttFilterPolicy>;
}

export const UNKNOWN_SERVER_NAME = ['default', 'refuse'] as const;
export type UnknownServerName = (typeof UNKNOWN_SERVER_NAME)[number];

/** A tenant's name ends up in Envoy resource and stat names: lower-case DNS-label-like. */
export const TENANT_NAME = {
  pattern: /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/,
  allowed: 'lower-case letters, digits and "-", at most 40, starting and ending with a letter or digit',
};

const SERVER_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const serverName: Reader<string> = name(
  SERVER_NAME,
  'a lower-case DNS name (`mqtt.example.com`) or one wildcard label in front (`*.example.com`)',
);
const absolutePath: Reader<string> = name(/^\/[^\0]*$/, 'an absolute file path');
const subjectAltName: Reader<string> = name(
  /^(DNS|URI|EMAIL|IP):[^,\s]+$/,
  'TYPE:value with TYPE one of DNS, URI, EMAIL, IP (a trailing * matches a prefix)',
);
/** A Secret's name (a DNS subdomain), optionally after its namespace (a DNS label) and a slash. */
const secretRef: Reader<string> = name(
  /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  'a Secret as name or namespace/name (lower-case letters, digits, "-" and "." in the name)',
);
const UINT32 = 0xffff_ffff;

const TENANT: Reader<TenantPolicy> = partial<TenantPolicy>(
  {
    serverNames: listOf(serverName, { min: 1, max: 100 }),
    certFile: absolutePath,
    keyFile: absolutePath,
    clientCaFile: absolutePath,
    secret: secretRef,
    clientCaSecret: secretRef,
    clientSubjectAltNames: listOf(subjectAltName, { min: 1, max: 100 }),
    brokers: listOf(name(BROKER_NAME.pattern, BROKER_NAME.allowed), { min: 1, max: 10_000 }),
    brokerLabels: mapOf({ pattern: LABEL.key, allowed: LABEL.allowed }, name(LABEL.value, LABEL.allowed)),
    maxConnections: numberIn({ min: 1, max: UINT32, integer: true }),
    proxyTlvs: listOf(name(/^[^,\s]+$/, 'TYPE=VALUE, e.g. 0xE5=gold'), { min: 1, max: MAX_TLVS }),
    mqttFilter: TENANT_MQTT_FILTER,
    connectRate: section<NonNullable<TenantPolicy['connectRate']>>(
      {
        perSec: numberOr('off', { min: 1, max: 1_000_000, integer: true }),
        burst: numberOr('auto', { min: 1, max: UINT32, integer: true }),
      },
      { perSec: 'off', burst: 'auto' },
    ),
  },
  ['serverNames'],
);

export const TENANTS: Reader<Readonly<Record<string, TenantPolicy>>> = mapOf(TENANT_NAME, TENANT);
export const UNKNOWN_SERVER_NAME_READER: Reader<UnknownServerName> = oneOf(UNKNOWN_SERVER_NAME);

/** Cross-field checks: a server name belongs to one tenant; SAN matching needs a client CA. */
export function checkTenants(
  tenants: Readonly<Record<string, TenantPolicy>>,
  add: (code: string, path: string, message: string) => void,
): void {
  const owner = new Map<string, string>();
  for (const [tenant, spec] of Object.entries(tenants)) {
    spec.serverNames.forEach((n, i) => {
      const first = owner.get(n);
      if (first !== undefined) {
        add(
          'POLICY_TENANT_NAME_TAKEN',
          `tenants.${tenant}.serverNames[${i}]`,
          `"${n}" is already tenant ${first}'s; Envoy could not tell them apart`,
        );
      } else owner.set(n, tenant);
    });
    checkTenantTlsSource(tenant, spec, add);
    if (spec.clientSubjectAltNames !== undefined && spec.clientCaFile === undefined && spec.clientCaSecret === undefined) {
      add(
        'POLICY_TENANT_SANS_WITHOUT_CA',
        `tenants.${tenant}.clientSubjectAltNames`,
        'client SANs are matched on client certificates, which only a client CA (clientCaFile or clientCaSecret) asks for; set one',
      );
    }
    if (spec.brokers !== undefined && spec.brokerLabels !== undefined) {
      add(
        'POLICY_TENANT_POOL_TWICE',
        `tenants.${tenant}.brokerLabels`,
        'a pool is chosen by name (brokers) or by label (brokerLabels), not both; keep one',
      );
    }
    if (spec.brokerLabels !== undefined && Object.keys(spec.brokerLabels).length === 0) {
      add('POLICY_TENANT_LABELS_EMPTY', `tenants.${tenant}.brokerLabels`, 'no label given; remove it to use every broker');
    }
    (spec.proxyTlvs ?? []).forEach((entry, i) => {
      const at = `tenants.${tenant}.proxyTlvs[${i}]`;
      const { problems } = parseProxyTlvs(entry, at);
      for (const p of problems) add(p.code.replace(/^CONFIG_/, 'POLICY_'), at, p.message);
    });
    const { perSec, burst } = spec.connectRate ?? { perSec: 'off', burst: 'auto' };
    if (perSec !== 'off' && burst !== 'auto' && burst < perSec) {
      add(
        'POLICY_TENANT_BURST',
        `tenants.${tenant}.connectRate.burst`,
        `burst ${burst} is below perSec ${perSec}; Envoy refills at most once a second`,
      );
    }
  }
}

/** A tenant's certificate comes from its two files or from one Secret: exactly one source. */
function checkTenantTlsSource(tenant: string, spec: TenantPolicy, add: (code: string, path: string, message: string) => void): void {
  const at = `tenants.${tenant}`;
  const files = spec.certFile !== undefined || spec.keyFile !== undefined;
  if (spec.secret !== undefined) {
    for (const key of ['certFile', 'keyFile', 'clientCaFile'] as const) {
      if (spec[key] === undefined) continue;
      const instead = key === 'clientCaFile' ? 'with a Secret, give the client CA as clientCaSecret' : 'keep one of them';
      add('POLICY_TENANT_TLS_TWO_SOURCES', `${at}.${key}`, `secret and ${key} are two sources of the tenant's TLS material: ${instead}`);
    }
    return;
  }
  if (spec.clientCaSecret !== undefined) {
    add(
      'POLICY_TENANT_CA_SECRET_NEEDS_SECRET',
      `${at}.clientCaSecret`,
      'clientCaSecret goes with secret; with certificate files, give the client CA as clientCaFile',
    );
  }
  if (!files) {
    add('POLICY_TENANT_TLS_MISSING', at, 'a tenant needs its certificate: certFile and keyFile, or secret (a kubernetes.io/tls Secret)');
    return;
  }
  for (const key of ['certFile', 'keyFile'] as const) {
    if (spec[key] === undefined)
      add('POLICY_TENANT_TLS_PAIR', `${at}.${key}`, 'certFile and keyFile go together: set both, or secret instead');
  }
}
