// Pure: one scrape of a broker's /metrics page → the page the noise proxy serves instead,
// with noise (`noise` events) and lies (`metrics-lie` idle and doubled; frozen pages are
// repeated whole by the proxy). Counters are rewritten on their increase since the last
// scrape, never on their value, so they stay monotonic whatever is done to them: a
// counter that went down would read as a broker restart.
import { javaDouble } from '../../tools/testbroker/capacity-metrics';
import type { Random } from './rng';
import type { LieMode } from './scenario';

/** The instantaneous load gauges: noise and lies scale them. */
const LOAD_GAUGES: ReadonlyArray<{ name: string; max?: number; integer: boolean }> = [
  { name: 'com_hivemq_networking_connections_current', integer: true },
  { name: 'com_hivemq_mqtt_connection_not_writable_current', integer: true },
  { name: 'com_hivemq_overload_protection_clients_backpressure_active', integer: true },
  { name: 'com_hivemq_system_os_global_cpu_total_total', max: 100, integer: false },
];
/** Counters whose increase gets the noise: a rate of them is a signal (HiveMQ's message counts are exact). */
const NOISY_COUNTERS: readonly string[] = ['process_cpu_seconds_total'];
/**
 * What an idle broker reports for overload protection: level 0 and the test broker's full
 * credits (capacity-model.ts: 200 − 18 × level), so an idle page never looks overloaded.
 */
const IDLE_VALUES: Readonly<Record<string, number>> = {
  com_hivemq_overload_protection_level: 0,
  com_hivemq_overload_protection_credits_per_tick: 200,
};

/** Per counter series (name and labels): the real value last seen and the value served for it. */
export type CounterState = Map<string, { real: number; served: number }>;

export interface RewriteInput {
  /** Noise ratio, 0 = none: gauges × U(1 − ratio, 1 + ratio), the CPU counter's increase likewise. */
  readonly ratio: number;
  readonly lie?: Exclude<LieMode, 'frozen'>;
  readonly gaugeRandom: Random;
  readonly counterRandom: Random;
  /** Updated in place: the offset a counter gathered stays with it after the noise or lie ends. */
  readonly counters: CounterState;
}

export function rewritePage(text: string, input: RewriteInput): string {
  return text
    .split('\n')
    .map((line) => rewriteLine(line, input))
    .join('\n');
}

function rewriteLine(line: string, input: RewriteInput): string {
  if (line === '' || line.startsWith('#')) return line;
  const space = line.lastIndexOf(' ');
  if (space < 0) return line;
  const series = line.slice(0, space);
  const name = series.split('{')[0];
  const value = Number(line.slice(space + 1));
  if (!Number.isFinite(value)) return line;
  const gauge = LOAD_GAUGES.find((g) => g.name === name);
  if (gauge) {
    // The random draw comes first and whatever the lie, so the noise stream stays in step.
    let out = input.ratio > 0 ? value * (1 + input.ratio * (2 * input.gaugeRandom() - 1)) : value;
    if (input.lie === 'idle') out = 0;
    if (input.lie === 'doubled') out *= 2;
    if (input.ratio <= 0 && input.lie === undefined) return line;
    out = Math.max(0, out);
    if (gauge.max !== undefined) out = Math.min(gauge.max, out);
    if (gauge.integer) out = Math.round(out);
    return `${series} ${javaDouble(out)}`;
  }
  if (input.lie === 'idle' && IDLE_VALUES[name] !== undefined) return `${series} ${javaDouble(IDLE_VALUES[name])}`;
  if (isCounter(name)) return rewriteCounter(line, series, value, NOISY_COUNTERS.includes(name), input);
  return line;
}

/** Prometheus counters end in _total; HiveMQ's Dropwizard counters and summaries' counts in _count. */
function isCounter(name: string): boolean {
  return name.endsWith('_total') || name.endsWith('_count');
}

function rewriteCounter(line: string, series: string, real: number, noisy: boolean, input: RewriteInput): string {
  const last = input.counters.get(series);
  let factor = noisy && input.ratio > 0 ? 1 + input.ratio * (2 * input.counterRandom() - 1) : 1;
  if (input.lie === 'idle') factor = 0;
  if (input.lie === 'doubled') factor *= 2;
  // First sight or a real reset (the broker restarted): served as it is. Otherwise the
  // offset from the real value grows by the extra increase; without one the real value
  // goes out exactly, and rounding never makes the served value go down.
  const served =
    last === undefined || real < last.real
      ? real
      : Math.max(last.served, real + (last.served - last.real) + (factor - 1) * (real - last.real));
  input.counters.set(series, { real, served });
  return served === real ? line : `${series} ${javaDouble(served)}`;
}
