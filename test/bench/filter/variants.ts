// Pure: which Envoy configurations bench:filter compares, and how its rounds are summed up.
// A variant is a policy's `mqttFilter:` section (none: the filter off). Extra filter settings
// (`--filter '{"inspectPublish":true}'`) make more variants on top of `weighted`, so a setting
// that another branch adds can be measured without changing this file.
import YAML from 'yaml';

export interface Variant {
  /** The row's name. */
  readonly name: string;
  /** The policy's mqttFilter section; undefined: no filter. */
  readonly filter?: Readonly<Record<string, unknown>>;
  /**
   * Diagnosis, not the product path: a static Envoy bootstrap (static.ts) with tcp_proxy alone,
   * connecting upstream at once or on the first data, or with the filter (or a no-op Wasm filter) in front.
   */
  readonly staticBootstrap?: StaticKind;
  /**
   * Static variants with a module (`static-filter@before`): that module file instead of
   * .local/wasm's, given with `--module before=FILE`, to compare two builds in the same run.
   */
  readonly moduleFile?: string;
}

/** The static bootstraps: tcp_proxy alone, or behind the filter (inspect: with inspectPublish) or the no-op module. */
export type StaticKind = 'immediate' | 'early-data' | 'filter' | 'inspect' | 'noop';

export const BUILT_IN_VARIANTS: readonly Variant[] = [
  { name: 'none' },
  { name: 'weighted', filter: { enabled: true, placement: 'weighted' } },
  { name: 'sticky', filter: { enabled: true, placement: 'sticky' } },
  { name: 'static-immediate', staticBootstrap: 'immediate' },
  { name: 'static-early-data', staticBootstrap: 'early-data' },
  { name: 'static-filter', staticBootstrap: 'filter' },
  { name: 'static-inspect', staticBootstrap: 'inspect' },
  { name: 'static-noop', staticBootstrap: 'noop' },
];

const WITH_MODULE: readonly StaticKind[] = ['filter', 'inspect', 'noop'];

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/**
 * `names`: built-in variants, comma-separated, in the order to run; a static variant with a
 * module takes `@label` for the module `modules` names so (`static-filter@before`). `filters`:
 * JSON objects, each one more variant, its keys over weighted's (a `placement` key included).
 */
export function parseVariants(
  names: string,
  filters: readonly string[],
  modules: ReadonlyMap<string, string> = new Map(),
): Parsed<Variant[]> {
  const out: Variant[] = [];
  for (const name of names
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [base, label] = name.split('@', 2);
    const b = BUILT_IN_VARIANTS.find((x) => x.name === base);
    if (!b) return { ok: false, error: `--variants: unknown variant "${name}"; known: ${BUILT_IN_VARIANTS.map((x) => x.name).join(', ')}` };
    let v: Variant = b;
    if (label !== undefined) {
      if (b.staticBootstrap === undefined || !WITH_MODULE.includes(b.staticBootstrap))
        return { ok: false, error: `--variants: "${name}": only static-filter, static-inspect and static-noop take @module` };
      const file = modules.get(label);
      if (file === undefined) return { ok: false, error: `--variants: "${name}": no --module ${label}=FILE given` };
      v = { ...b, name, moduleFile: file };
    }
    if (!out.some((o) => o.name === v.name)) out.push(v);
  }
  for (const text of filters) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `--filter: not JSON (${(err as Error).message}): ${text}` };
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return { ok: false, error: `--filter: expected a JSON object of mqttFilter settings, got ${text}` };
    }
    const own = json as Record<string, unknown>;
    const placement = typeof own.placement === 'string' ? own.placement : 'weighted';
    out.push({ name: `${placement}+${JSON.stringify(own)}`, filter: { enabled: true, placement: 'weighted', ...own } });
  }
  if (out.length === 0) return { ok: false, error: 'no variant to run: give --variants or --filter' };
  return { ok: true, value: out };
}

/** The policy file for a variant; undefined for none (mqtt-xds's defaults: no filter). */
export function policyText(v: Variant): string | undefined {
  return v.filter === undefined || v.staticBootstrap !== undefined ? undefined : YAML.stringify({ mqttFilter: v.filter });
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One measurement of one variant in one round. */
export interface Measurement {
  readonly variant: string;
  readonly round: number;
  /** Operations per second (CONNECT→CONNACK, or PUBLISH packets the broker received). */
  readonly perSec: number;
  /** Envoy's CPU (user + system) per operation, in microseconds. */
  readonly envoyCpuUs: number;
}

export interface Summary {
  readonly variant: string;
  readonly rounds: number;
  readonly medianPerSec: number | null;
  readonly medianCpuUs: number | null;
  /** Median over rounds of perSec / the baseline's perSec in the same round. */
  readonly rateRatio: number | null;
  /** Median over rounds of envoyCpuUs / the baseline's in the same round. */
  readonly cpuRatio: number | null;
}

/** Per variant, in the order first seen: medians, and ratios against `baseline` paired by round. */
export function summarise(rows: readonly Measurement[], baseline: string): Summary[] {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const base = new Map(rows.filter((r) => r.variant === baseline).map((r) => [r.round, r]));
  return variants.map((variant) => {
    const mine = rows.filter((r) => r.variant === variant);
    const paired = mine.flatMap((r) => {
      const b = base.get(r.round);
      return b ? [{ r, b }] : [];
    });
    return {
      variant,
      rounds: mine.length,
      medianPerSec: median(mine.map((r) => r.perSec)),
      medianCpuUs: median(mine.map((r) => r.envoyCpuUs)),
      rateRatio: median(paired.filter(({ b }) => b.perSec > 0).map(({ r, b }) => r.perSec / b.perSec)),
      cpuRatio: median(paired.filter(({ b }) => b.envoyCpuUs > 0).map(({ r, b }) => r.envoyCpuUs / b.envoyCpuUs)),
    };
  });
}

/** The order of the variants in round k (1-based): rotated each round, so no variant always runs first. */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  const k = (round - 1) % Math.max(1, variants.length);
  return [...variants.slice(k), ...variants.slice(0, k)];
}
