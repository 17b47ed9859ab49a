// The vocabulary every setting is written in: the kinds of value, the shared field types
// (names, ports, selectors), and the one check that flags, environment variables and
// config-file keys all go through, so each kind says the same thing wherever it is read.
import { resolve } from 'node:path';
import { isIpLiteral, hostProblem } from '../util/host';
import type { SettingKey } from './config-types';

export type SettingType =
  | { readonly kind: 'string'; readonly pattern: RegExp; readonly allowed: string; readonly optional?: boolean }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** A file path, resolved against the working directory; `optional` admits '' for "none". */
  | { readonly kind: 'path'; readonly optional?: boolean }
  /** An address a Node server binds to or connects to: IP literal or DNS name. */
  | { readonly kind: 'host' }
  /** An address Envoy binds to: Envoy does not resolve names for listeners. */
  | { readonly kind: 'ip' };

export interface Setting {
  readonly key: SettingKey;
  readonly type: SettingType;
  readonly default: string | number;
  /** `--xds-port`; also accepted as `--xds-port=VALUE`. */
  readonly flag: string;
  /** `MQTT_XDS_XDS_PORT`. */
  readonly env: string;
  /** One line, with the unit. */
  readonly help: string;
}

export const ENV_PREFIX = 'MQTT_XDS_';

/** One row of the table; the flag and environment variable are derived from the key. */
export function setting(key: SettingKey, type: SettingType, dflt: string | number, help: string): Setting {
  // `cluster.healthCheck.intervalMs` → words cluster, health, check, interval, ms.
  const words = key
    .split('.')
    .flatMap((part) => part.split(/(?=[A-Z])/))
    .map((w) => w.toLowerCase());
  return { key, type, default: dflt, help, flag: `--${words.join('-')}`, env: ENV_PREFIX + words.join('_').toUpperCase() };
}

// Field types shared by the table's rows.
export const UINT16 = 65535;
export const UINT32 = 0xffff_ffff;
export const INT32 = 0x7fff_ffff;
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const resourceName: SettingType = {
  kind: 'string',
  pattern: RESOURCE_NAME,
  allowed: 'a name of letters, digits, "_", "." and "-", starting with a letter or digit',
};
export const int = (min: number, max: number): SettingType => ({ kind: 'int', min, max });
export const k8sName = (optional: boolean): SettingType => ({
  kind: 'string',
  pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  allowed: 'a Kubernetes name (lower-case letters, digits and "-", at most 63 characters)' + (optional ? ', or empty' : ''),
  optional,
});
export const portRef = (optional: boolean): SettingType => ({
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?|\d{1,5})$/,
  allowed: 'a port name (IANA_SVC_NAME) or number' + (optional ? ', or empty for none' : ''),
  optional,
});
export const labelSelector: SettingType = {
  kind: 'string',
  pattern: /^[A-Za-z0-9_.\/=!,() -]+$/,
  allowed: 'a Kubernetes label selector such as app=hivemq,tier!=test, or empty',
  optional: true,
};
// Kubernetes' qualified name: an optional DNS-subdomain prefix, "/", and a name of at most 63 characters.
export const annotationKey: SettingType = {
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  allowed: 'an annotation key such as mqtt-xds.io/drain, or empty',
  optional: true,
};
export const configMapRef: SettingType = {
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  allowed: 'a ConfigMap as name or namespace/name, or empty',
  optional: true,
};
export const secretRef: SettingType = {
  kind: 'string',
  pattern: /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
  allowed: 'a Secret as name or namespace/name, or empty',
  optional: true,
};
export const configMapKey: SettingType = { kind: 'string', pattern: /^[-._a-zA-Z0-9]{1,253}$/, allowed: 'a ConfigMap key' };
export const urlPath: SettingType = { kind: 'string', pattern: /^\/[!-~]*$/, allowed: 'an absolute URL path such as /metrics' };
export const optionalDnsName: SettingType = {
  kind: 'string',
  pattern: /^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$/,
  allowed: 'a DNS name',
  optional: true,
};
export const leaseIdentity: SettingType = {
  kind: 'string',
  pattern: /^[A-Za-z0-9][-A-Za-z0-9_.]{0,252}$/,
  allowed: 'a name such as the pod name, or empty',
  optional: true,
};

/** What a setting accepts, phrased to follow "expected". */
export function describeAllowed(type: SettingType): string {
  switch (type.kind) {
    case 'string':
      return type.allowed;
    case 'int':
      return `an integer in ${type.min}..${type.max}`;
    case 'enum':
      return `one of ${type.values.join(', ')}`;
    case 'path':
      return type.optional ? 'a file path, or empty for none' : 'a non-empty file path';
    case 'host':
      return 'an IPv4 or IPv6 address or a DNS name';
    case 'ip':
      return 'an IPv4 or IPv6 address';
  }
}

/** Short placeholder for --help (`--xds-port INT`). */
export function valueHint(type: SettingType): string {
  switch (type.kind) {
    case 'int':
      return 'INT';
    case 'enum':
      return type.values.join('|');
    case 'path':
      return 'FILE';
    case 'host':
      return 'HOST';
    case 'ip':
      return 'IP';
    case 'string':
      return 'NAME';
  }
}

export type Checked = { ok: true; value: string | number } | { ok: false; code: string; reason: string };

/**
 * Checks one raw value. Flags and env give text; a config file gives a YAML scalar, which
 * must already have the right type (`port: "18000"` is a quoted string, not a number).
 */
export function checkValue(s: Setting, raw: unknown, from: 'text' | 'yaml', cwd: string): Checked {
  const allowed = describeAllowed(s.type);
  const bad = (code: string, what: string): Checked => ({
    ok: false,
    code,
    reason: `${show(raw)} ${what}; ${s.key} expects ${allowed}`,
  });
  if (s.type.kind === 'int') {
    let n: number;
    if (from === 'text') {
      if (typeof raw !== 'string' || !/^[-+]?\d+$/.test(raw.trim())) return bad('CONFIG_NOT_AN_INTEGER', 'is not an integer');
      n = Number(raw.trim());
    } else {
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return bad('CONFIG_NOT_AN_INTEGER', 'is not an integer');
      n = raw;
    }
    if (!Number.isSafeInteger(n) || n < s.type.min || n > s.type.max) return bad('CONFIG_OUT_OF_RANGE', 'is out of range');
    return { ok: true, value: n };
  }
  if (typeof raw !== 'string') return bad('CONFIG_WRONG_TYPE', 'is not a string');
  const text = raw.trim();
  if (text === '' && (s.type.kind === 'path' || s.type.kind === 'string') && s.type.optional) return { ok: true, value: '' };
  if (text === '') return bad('CONFIG_EMPTY_VALUE', 'is empty');
  switch (s.type.kind) {
    case 'enum':
      return s.type.values.includes(text) ? { ok: true, value: text } : bad('CONFIG_NOT_ALLOWED', 'is not allowed');
    case 'path':
      return { ok: true, value: resolve(cwd, text) };
    case 'host': {
      const why = hostProblem(text);
      return why === undefined ? { ok: true, value: text } : bad('CONFIG_BAD_HOST', `is not a host (${why})`);
    }
    case 'ip':
      return isIpLiteral(text) ? { ok: true, value: text } : bad('CONFIG_BAD_IP', 'is not an IP address');
    case 'string':
      return s.type.pattern.test(text) ? { ok: true, value: text } : bad('CONFIG_BAD_NAME', 'is not a valid name');
  }
}

function show(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (raw === null || raw === undefined) return 'an empty value';
  if (typeof raw === 'object') return 'a structured value';
  return String(raw);
}
