// Per-client-id salts for sticky placement (docs/mqtt-filter.md, "Overrides: salted ids"). The
// rebalancer gives the ids it moves a fresh salt, over ECDS; the filter then hashes
// "<salt>:<client id>" for them, so their reconnect is placed by the weights like a new id
// instead of going back to the broker they were moved off. Ids travel as 64-bit FNV-1a hashes
// of their UTF-8 bytes: every entry has the same small size whatever the id's length, and the
// config Envoy shows in /config_dump names no client. A hash collision salts another id too,
// which only moves it once more.

/** The most entries a configuration may hold; the policy's own maximum (rebalance.stickyOverrides.maxEntries). */
export const MAX_SALTED_IDS: i32 = 10000;

const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

/** 64-bit FNV-1a over the id's UTF-8 bytes; src/translation/sticky-salts.ts computes the same. */
export function clientIdHash(clientId: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(clientId));
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h ^= <u64>bytes[i];
    h *= FNV_PRIME;
  }
  return h;
}

export class Salts {
  entries: Map<u64, u32> = new Map<u64, u32>();
  error: string = '';

  /** The hash key tcp_proxy hashes: the client id, or "<salt>:<client id>" for a salted one. */
  keyFor(clientId: string): string {
    if (this.entries.size == 0) return clientId;
    const h = clientIdHash(clientId);
    if (!this.entries.has(h)) return clientId;
    return this.entries.get(h).toString() + ':' + clientId;
  }
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Reads "saltedIds": entries "<16 lowercase hex digits>:<salt>" separated by ",", the salt a
 * decimal in 1..4294967295. One pass over the text, at most MAX_SALTED_IDS entries; a bad entry
 * is an error naming its index, never a trap.
 */
export function parseSalts(text: string): Salts {
  const out = new Salts();
  const n = text.length;
  if (n == 0) return out;
  let pos = 0;
  let index = 0;
  while (true) {
    if (index >= MAX_SALTED_IDS) {
      out.error = '"saltedIds" holds more than ' + MAX_SALTED_IDS.toString() + ' entries';
      return out;
    }
    let h: u64 = 0;
    let i = 0;
    for (; i < 16 && pos < n; i++) {
      const d = hexDigit(text.charCodeAt(pos));
      if (d < 0) break;
      h = (h << 4) | (<u64>d);
      pos++;
    }
    if (i != 16 || pos >= n || text.charCodeAt(pos) != 0x3a) return badEntry(out, index);
    pos++;
    let salt: u64 = 0;
    let digits = 0;
    while (pos < n && digits <= 10) {
      const c = text.charCodeAt(pos);
      if (c < 0x30 || c > 0x39) break;
      salt = salt * 10 + <u64>(c - 0x30);
      digits++;
      pos++;
    }
    if (digits == 0 || digits > 10 || salt == 0 || salt > 0xffffffff) return badEntry(out, index);
    if (out.entries.has(h)) {
      out.error = '"saltedIds" entry ' + index.toString() + ' repeats an id hash';
      return out;
    }
    out.entries.set(h, <u32>salt);
    index++;
    if (pos == n) return out;
    if (text.charCodeAt(pos) != 0x2c) return badEntry(out, index - 1);
    pos++;
  }
  return out; // not reached: the loop returns
}

function badEntry(out: Salts, index: i32): Salts {
  out.error =
    '"saltedIds" entry ' + index.toString() + ' must be 16 lowercase hex digits, ":" and a salt in 1..4294967295, entries separated by ","';
  return out;
}
