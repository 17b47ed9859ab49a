import { lookup as dnsLookup } from 'node:dns/promises';
import { sortBrokers, type Broker } from '../domain/broker';
import { canonicalHost, isIpLiteral } from '../util/host';
import { fail, ok, type Problem, type Result } from '../util/result';
import { formatEndpoint, type BrokerEntry } from './brokers-file';

/** Resolves a DNS name to its addresses; `node:dns/promises` lookup with `all: true` fits. */
export type HostLookup = (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true });

/** How long one lookup may take before it counts as failed; a resolver that never answers must not hold a load. */
export const DEFAULT_DNS_TIMEOUT_MS = 5000;

export interface ResolveOptions {
  /** Deadline for each lookup, in milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Turns file entries into Brokers: Envoy's EDS needs addresses, so DNS names are resolved
 * here, once per load. Every failed lookup is reported, not only the first.
 */
export async function resolveBrokers(
  entries: readonly BrokerEntry[],
  lookup: HostLookup = systemLookup,
  options: ResolveOptions = {},
): Promise<Result<Broker[]>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const results = await Promise.all(entries.map((e, i) => resolveOne(e, `brokers[${i}]`, lookup, timeoutMs)));
  const problems: Problem[] = [];
  const brokers: Broker[] = [];
  const seen = new Map<string, string>();
  for (const [i, r] of results.entries()) {
    if (!r.ok) {
      problems.push(...r.problems);
      continue;
    }
    // Two names can resolve to one address (`localhost` and `127.0.0.1`): that would be one
    // broker counted twice by the balancer.
    const endpoint = formatEndpoint(canonicalHost(r.value.address), r.value.port);
    const first = seen.get(endpoint);
    if (first !== undefined) {
      problems.push({
        code: 'BROKER_DUPLICATE_ENDPOINT',
        path: `brokers[${i}].host`,
        message: `broker "${r.value.name}" resolves to ${endpoint}, like broker "${first}"; each broker needs its own address and port`,
      });
    } else seen.set(endpoint, r.value.name);
    brokers.push(r.value);
  }
  return problems.length > 0 ? fail(problems) : ok(sortBrokers(brokers));
}

async function resolveOne(entry: BrokerEntry, at: string, lookup: HostLookup, timeoutMs: number): Promise<Result<Broker>> {
  const { host, ...rest } = entry;
  const toBroker = (address: string): Broker => {
    const { name, port, websocketPort, metricsUrl, agentUrl, staticWeight, draining, labels } = rest;
    return {
      name,
      address,
      port,
      ...(websocketPort === undefined ? {} : { websocketPort }),
      ...(metricsUrl === undefined ? {} : { metricsUrl }),
      ...(agentUrl === undefined ? {} : { agentUrl }),
      ...(staticWeight === undefined ? {} : { staticWeight }),
      ...(draining === undefined ? {} : { draining }),
      ...(labels === undefined ? {} : { labels }),
    };
  };
  if (isIpLiteral(host)) return ok(toBroker(host));
  const failed = (why: string, code = 'BROKER_DNS_FAILED'): Result<Broker> =>
    fail([
      {
        code,
        path: `${at}.host`,
        message: `cannot resolve host "${host}" of broker "${entry.name}": ${why}; fix the name or use an IP address`,
      },
    ]);
  let addresses: ReadonlyArray<{ address: string; family: number }>;
  try {
    const answer = await withDeadline(lookup(host), timeoutMs);
    if (answer === TIMED_OUT) return failed(`no answer within ${timeoutMs} ms`, 'BROKER_DNS_TIMEOUT');
    addresses = answer;
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  }
  const chosen = pickAddress(addresses);
  return chosen === undefined ? failed('no addresses returned') : ok(toBroker(chosen));
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after timeoutMs; the lookup itself cannot be cancelled, only abandoned. */
async function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((res) => {
    timer = setTimeout(() => res(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One address, IPv4 first. The choice is the lowest address, not the first answer, so a
 * DNS server that rotates its answers does not make the endpoint flap on every reload.
 */
function pickAddress(addresses: ReadonlyArray<{ address: string; family: number }>): string | undefined {
  const usable = addresses.filter((a) => isIpLiteral(a.address));
  const v4 = usable
    .filter((a) => a.family === 4)
    .map((a) => a.address)
    .sort();
  const v6 = usable
    .filter((a) => a.family !== 4)
    .map((a) => a.address)
    .sort();
  return v4[0] ?? v6[0];
}
