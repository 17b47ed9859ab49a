// Settings of balancing: the rebalancer's tick, how weights are chosen, and how broker
// metrics are scraped for them.
import { configMapKey, configMapRef, int, setting, type Setting } from './setting-fields';

/** How often the rebalancer moves clients. */
export const REBALANCE_SETTINGS: readonly Setting[] = [
  setting(
    'rebalanceTickMs',
    int(100, 60_000),
    1000,
    'How often the rebalancer plans and moves clients, in milliseconds (the leader only).',
  ),
];

/** How weights are chosen and pushed, and how broker metrics are scraped. */
export const BALANCING_SETTINGS: readonly Setting[] = [
  setting(
    'balancing.mode',
    { kind: 'enum', values: ['metrics', 'static'] },
    'metrics',
    'metrics: weights follow scraped broker load under the policy; static: weights come from discovery alone.',
  ),
  setting(
    'balancing.policyFile',
    { kind: 'path', optional: true },
    '',
    'YAML operator policy for the weights, watched for changes; empty uses the built-in defaults.',
  ),
  setting(
    'balancing.policyConfigMap',
    configMapRef,
    '',
    'ConfigMap holding the policy, as [namespace/]name (namespace defaults to the broker namespace); watched.',
  ),
  setting('balancing.policyConfigMapKey', configMapKey, 'policy.yaml', 'Key of the policy document in that ConfigMap.'),
  setting(
    'balancing.lbPolicy',
    { kind: 'enum', values: ['ROUND_ROBIN', 'LEAST_REQUEST'] },
    'ROUND_ROBIN',
    "Envoy's load-balancing policy for the brokers; both honour the weights.",
  ),
  setting(
    'balancing.minPushIntervalMs',
    int(0, 3_600_000),
    5000,
    'Least time between two weight adjustments pushed from metrics, in milliseconds; overload cuts, policy and broker-list changes (membership, weights in the brokers file) go at once.',
  ),
  setting(
    'scrape.intervalMs',
    int(100, 3_600_000),
    5000,
    "Time between two scrapes of every broker's metrics, in milliseconds (jittered by 10%).",
  ),
  setting(
    'scrape.quickIntervalMs',
    int(0, 3_600_000),
    1000,
    'Time to the next scrape when a decision waits for it (an overload seen once, a cut counting calm scrapes, a suspect page), in milliseconds; 0 or not below scrape.intervalMs: always the full interval.',
  ),
  setting('scrape.timeoutMs', int(50, 600_000), 2000, 'Time one metrics request may take, in milliseconds.'),
  setting('scrape.concurrency', int(1, 1000), 8, 'Metrics requests in flight at once (count).'),
];
