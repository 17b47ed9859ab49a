import type { Policy, SuspectPolicy } from '../config/policy';
import type { BrokerLoad, EnvoyBrokerLoad, LoadSignals } from '../domain';
import type { BrokerState } from './policy-state';

// A broker's page checked against what the Envoys routed to it (docs/envoy-view.md). The
// Envoys count every connection they hold to each broker; a page that says otherwise by more
// than the tolerance, scrape after scrape, is not believed: its broker is weighed from the
// Envoys' count, and its CPU is not used to infer its capacity.

export interface EnvoyCheck {
  /** The signals to fold into the state: the page's, or the Envoys' count for a suspect page. */
  readonly signals: LoadSignals;
  /** Why the page is not believed; undefined when it is. */
  readonly suspect?: string;
  /** The page timed out while the Envoys keep opening connections to the broker: why. */
  readonly slowPage?: string;
  /** Consecutive scrapes that contradicted the Envoys (or, while suspect, agreed with them). */
  readonly suspectSamples?: number;
  readonly agreeSamples?: number;
  /** What the page said when it stopped being believed, kept while it is not. */
  readonly suspectReason?: string;
  /** The uncounted connections' bound to keep in the state (see BrokerState). */
  readonly uncountedSeen?: number;
  readonly uncountedCap?: number;
  /** What the Envoys hold by their own count, uncounted connections that may still be up included. */
  readonly envoyConnections?: number;
}

/**
 * How a page's connections contradict the Envoys' count, or undefined when they agree.
 * `uncounted` connections may be up besides the Envoys' count (their cluster was replaced):
 * the count is then a lower bound, and a page may say up to that many more.
 */
export function contradiction(page: number, envoys: number, policy: SuspectPolicy, uncounted = 0): string | undefined {
  if (policy.direction === 'off') return undefined;
  const margin = suspectMargin(page, envoys, policy);
  if (page < envoys - margin) return `page says ${page} connections, the Envoys hold ${envoys}`;
  if (policy.direction === 'both' && page > envoys + uncounted + margin) {
    const besides = uncounted > 0 ? ` (and at most ${uncounted} made before their cluster was replaced)` : '';
    return `page says ${page} connections, the Envoys hold only ${envoys}${besides}`;
  }
  return undefined;
}

/** The difference between a page and the Envoys that counts. */
const suspectMargin = (page: number, envoys: number, policy: SuspectPolicy): number =>
  Math.max(policy.minConnections, policy.tolerance * Math.max(page, envoys));

/**
 * How many of the Envoys' uncounted connections can still be up. Each report's uncounted
 * total only grows, by what a new cluster replacement adds (or shrinks when an Envoy goes,
 * and its connections with it); the bound follows it, and a believed page lowers it
 * (checkAgainstEnvoys), since closed connections do not come back.
 */
export function uncountedBound(reported: number, seen: number | undefined, cap: number | undefined): number {
  if (seen === undefined || cap === undefined) return reported;
  return reported >= seen ? Math.min(reported, cap + reported - seen) : Math.min(reported, cap);
}

/**
 * The check for one broker in one computation. Samples are counted once per scrape
 * (`newSample`), like overloads: a broker becomes suspect after `samples` contradicting
 * scrapes and is believed again after as many agreeing ones.
 */
export function checkAgainstEnvoys(
  load: BrokerLoad | undefined,
  envoy: EnvoyBrokerLoad | undefined,
  old: BrokerState | undefined,
  policy: Policy,
  newSample: boolean,
): EnvoyCheck {
  const page = load?.signals ?? {};
  // No Envoy reports: nothing to judge a page by, and nothing to weigh a suspect one from.
  if (envoy === undefined || envoy.envoys === 0) return { signals: page };
  const slowPage =
    policy.overload.onScrapeTimeout && load?.error?.code === 'SCRAPE_TIMEOUT' && envoy.openedPerSec > 0
      ? `metrics page timed out (${load.consecutiveFailures} in a row) while the Envoys open ${envoy.openedPerSec.toFixed(1)}/s to it`
      : undefined;
  const wasSuspect = old?.agreeSamples !== undefined;
  const said = page.connections;
  const reported = envoy.uncounted ?? 0;
  let cap = uncountedBound(reported, old?.uncountedSeen, old?.uncountedCap);
  const bound = (): Pick<EnvoyCheck, 'uncountedSeen' | 'uncountedCap' | 'envoyConnections'> =>
    reported === 0 ? {} : { uncountedSeen: reported, uncountedCap: cap, envoyConnections: envoy.connections + cap };
  if (!newSample || said === undefined) {
    const kept = carried(page, old);
    return {
      ...kept,
      ...bound(),
      ...(slowPage === undefined ? {} : { slowPage }),
      ...(wasSuspect ? { signals: envoySignals(envoy, cap, old) } : {}),
    };
  }
  const why = contradiction(said, envoy.connections, policy.suspect, cap);
  // A believed page bounds what can still be up of the uncounted connections. Within the
  // margin: the page and the reports are not taken at the same instant. Not while an Envoy
  // may still count on its old cluster: its count then holds the uncounted ones too.
  if (why === undefined && !wasSuspect && envoy.settling !== true) {
    cap = Math.min(cap, Math.max(0, Math.ceil(said - envoy.connections + suspectMargin(said, envoy.connections, policy.suspect))));
  }
  const suspectSamples = why === undefined ? 0 : (old?.suspectSamples ?? 0) + 1;
  const agreeSamples = !wasSuspect ? undefined : why === undefined ? (old?.agreeSamples ?? 0) + 1 : 0;
  const samples = policy.suspect.samples;
  const suspect = wasSuspect ? agreeSamples! < samples : suspectSamples >= samples;
  const reason = suspect
    ? (why ?? `${old?.suspectReason ?? 'contradicted the Envoys'}; agreed since in ${agreeSamples} of ${samples} scrapes`)
    : undefined;
  // A contradicting page is not folded in even before it counts as suspect: one lying
  // scrape would already pull the smoothed signals (and a boost) its way.
  return {
    signals: suspect || why !== undefined ? envoySignals(envoy, cap, old) : page,
    ...bound(),
    ...(reason === undefined ? {} : { suspect: reason }),
    ...(slowPage === undefined ? {} : { slowPage }),
    ...(suspectSamples > 0 ? { suspectSamples } : {}),
    ...(suspect ? { agreeSamples: wasSuspect ? agreeSamples : 0, suspectReason: why ?? old?.suspectReason ?? reason } : {}),
  };
}

/** Nothing new to judge by: the verdict of the last scrape stands. */
function carried(page: LoadSignals, old: BrokerState | undefined): EnvoyCheck {
  return {
    signals: page,
    ...(old?.agreeSamples !== undefined
      ? { suspect: old.suspectReason ?? 'contradicted the Envoys', agreeSamples: old.agreeSamples, suspectReason: old.suspectReason }
      : {}),
    ...(old?.suspectSamples !== undefined ? { suspectSamples: old.suspectSamples } : {}),
  };
}

/**
 * A suspect page's broker is weighed from the Envoys' count, and its CPU from the last CPU
 * believed, scaled by its connections since: dropping the CPU would weigh it on connections
 * alone while its peers mix in their CPU, which reads differently (a baseline, batching).
 */
function envoySignals(envoy: EnvoyBrokerLoad, uncounted: number, old: BrokerState | undefined): LoadSignals {
  // Uncounted connections that may still be up count as up: a broker is not weighed as emptier than it can be.
  const connections = envoy.connections + uncounted;
  const cpu = old?.smoothed?.cpu;
  const was = old?.smoothed?.connections;
  const scaled = cpu !== undefined && was !== undefined && was > 0 ? Math.min(1, (cpu * connections) / was) : undefined;
  return { connections, ...(scaled === undefined ? {} : { cpu: scaled }) };
}
