// The MQTT filter's "saltedIds" value: the ids the rebalancer moved in sticky placement, each
// with the salt the filter hashes in front of it (wasm/mqtt-filter/assembly/filter/salts.ts,
// docs/mqtt-filter.md "Overrides: salted ids"). Ids travel as 64-bit FNV-1a hashes of their
// UTF-8 bytes, so an entry is 19–28 characters (comma included) whatever the id's length.

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** The id's hash as the filter computes it: 16 lowercase hex digits. */
export function clientIdHash(clientId: string): string {
  let h = FNV_OFFSET;
  for (const b of Buffer.from(clientId, 'utf8')) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK_64;
  }
  return h.toString(16).padStart(16, '0');
}

/** One salted id: its hash (clientIdHash) and a salt in 1..2^32-1. */
export interface SaltedId {
  readonly hash: string;
  readonly salt: number;
}

/** "<hash>:<salt>,…", sorted by hash so the same entries always give the same config (and version). */
export function saltedIdsValue(entries: readonly SaltedId[]): string {
  return [...entries]
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .map((e) => `${e.hash}:${e.salt}`)
    .join(',');
}
