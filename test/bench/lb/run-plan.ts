// Pure: which runs one benchmark invocation makes. The default strategy list, and the
// scrape interval each mqtt-xds run uses: the scenario's, mqtt-xds's production default
// or both, each as its own row (`mqtt-xds` and `mqtt-xds@5s`), so a result measured with
// a scrape every second is never mistaken for what ships.
import { settingByKey } from '../../../src/config/settings';
import { OPT_IN_STRATEGIES, STRATEGIES, WEIGHTED_STRATEGIES, type Scenario, type StrategyName } from './scenario';

export const SCRAPE_CHOICES = ['scenario', 'production', 'both'] as const;
export type ScrapeChoice = (typeof SCRAPE_CHOICES)[number];

export const PRODUCTION_SCRAPE = {
  intervalMs: Number(settingByKey.get('scrape.intervalMs')!.default),
  timeoutMs: Number(settingByKey.get('scrape.timeoutMs')!.default),
};

export interface ScrapeSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface RunPlan {
  readonly strategy: StrategyName;
  /** The row's name in the report, the run's work directory. */
  readonly label: string;
  /** For strategies that read metrics; undefined for the others. */
  readonly scrape?: ScrapeSettings;
}

/** The strategies that scrape broker metrics (and so see noise, lies and slow pages). */
export function readsMetrics(strategy: StrategyName): boolean {
  return strategy === 'mqtt-xds' || strategy === 'mqtt-xds-sticky';
}

/**
 * Every strategy but the opt-in ones, and without the weighted ones when every broker has
 * the same capacity (they would be the unweighted ones again).
 */
export function defaultStrategies(scenario: Scenario): StrategyName[] {
  const sized = new Set(scenario.brokers.map((b) => b.capacity)).size > 1;
  return STRATEGIES.filter((s) => !OPT_IN_STRATEGIES.includes(s) && (sized || !WEIGHTED_STRATEGIES.includes(s)));
}

/**
 * mqtt-xds wants a scrape to end before the next one starts: half the interval, at most
 * the production timeout, which is what a 5 s interval gets.
 */
export function scrapeTimeoutMs(intervalMs: number): number {
  return Math.max(50, Math.min(PRODUCTION_SCRAPE.timeoutMs, Math.floor(intervalMs / 2)));
}

export function planRuns(strategies: readonly StrategyName[], scenario: Scenario, choice: ScrapeChoice): RunPlan[] {
  const own: ScrapeSettings = { intervalMs: scenario.scrapeIntervalMs, timeoutMs: scrapeTimeoutMs(scenario.scrapeIntervalMs) };
  const production: ScrapeSettings = { intervalMs: PRODUCTION_SCRAPE.intervalMs, timeoutMs: scrapeTimeoutMs(PRODUCTION_SCRAPE.intervalMs) };
  const same = own.intervalMs === production.intervalMs;
  return strategies.flatMap((strategy): RunPlan[] => {
    if (!readsMetrics(strategy)) return [{ strategy, label: strategy }];
    const atOwn: RunPlan = { strategy, label: strategy, scrape: own };
    // The production row is named after its interval whenever it differs from the scenario's.
    const atProduction: RunPlan = same ? atOwn : { strategy, label: `${strategy}@${production.intervalMs / 1000}s`, scrape: production };
    if (choice === 'scenario') return [atOwn];
    if (choice === 'production') return [atProduction];
    return same ? [atOwn] : [atOwn, atProduction];
  });
}
