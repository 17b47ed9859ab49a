import type { Policy } from './policy-types';
import { childPath } from './policy-schema';

const UNSET = '(unset)';

/**
 * Every difference between two policies as `path: old -> new`, one line per leaf value,
 * so each applied policy change can be logged as what it changed. Empty when equal.
 */
export function diffPolicies(a: Policy, b: Policy): string[] {
  const before = leaves(a);
  const after = leaves(b);
  const paths = [...before.keys(), ...[...after.keys()].filter((k) => !before.has(k))];
  const out: string[] = [];
  for (const path of paths) {
    const old = before.get(path) ?? UNSET;
    const now = after.get(path) ?? UNSET;
    if (old !== now) out.push(`${path}: ${old} -> ${now}`);
  }
  return out;
}

function leaves(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) leaves(v, childPath(path, k), out);
  } else if (value !== undefined) {
    out.set(path, String(value));
  }
  return out;
}
