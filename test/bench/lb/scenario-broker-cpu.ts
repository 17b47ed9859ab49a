// The `cpu:` section of a scenario's broker: which CPU model its test broker runs and how
// its CPU is read (docs/test-broker.md, "Realistic CPU"), and the broker flags that give
// it. The benchmark's default is the realistic model read over the broker's own limit, so
// a CPU-led balancer no longer reads the score itself; `model: ideal` repeats older rows.
import type { CapacityBrokerOptions } from '../../tools/testbroker';
import { CPU_MODELS, CPU_VIEWS, DEFAULT_CPU_MODEL } from '../../tools/testbroker/capacity-cpu';
import type { BrokerCpuSpec } from './scenario';
import type { FieldReader, PathPart } from './scenario-fields';

export const DEFAULT_BROKER_CPU: BrokerCpuSpec = {
  model: 'realistic',
  view: 'limit',
  limitCores: 1,
  hostCores: DEFAULT_CPU_MODEL.hostCores,
  baseline: DEFAULT_CPU_MODEL.cpuBaseline,
  lagSec: DEFAULT_CPU_MODEL.cpuLagMs / 1000,
  amortisation: DEFAULT_CPU_MODEL.cpuAmortisation,
  fanoutExponent: DEFAULT_CPU_MODEL.cpuFanoutExponent,
  spikes: {
    meanIntervalSec: DEFAULT_CPU_MODEL.cpuSpikeIntervalMs / 1000,
    min: DEFAULT_CPU_MODEL.cpuSpikeMin,
    max: DEFAULT_CPU_MODEL.cpuSpikeMax,
  },
};

const CPU_KEYS = ['model', 'view', 'limitCores', 'hostCores', 'baseline', 'lagSec', 'amortisation', 'fanoutExponent', 'spikes'];

/** Every field optional; a wrong one is reported and its default taken, so one pass lists every mistake. */
export function readBrokerCpu(r: FieldReader, value: unknown, path: readonly PathPart[]): BrokerCpuSpec {
  const d = DEFAULT_BROKER_CPU;
  if (value === undefined) return d;
  const c = r.object(value, path, CPU_KEYS);
  if (!c) return d;
  const at = (key: string): PathPart[] => [...path, key];
  const model = c.model === undefined ? d.model : (r.oneOf(c.model, at('model'), CPU_MODELS) ?? d.model);
  const view = c.view === undefined ? d.view : (r.oneOf(c.view, at('view'), CPU_VIEWS) ?? d.view);
  const limitCores = r.optionalNumber(c.limitCores, at('limitCores'), { min: 0, max: 1024, minExclusive: true }) ?? d.limitCores;
  const hostCores = r.optionalNumber(c.hostCores, at('hostCores'), { min: 1, max: 1024, integer: true }) ?? d.hostCores;
  if (view === 'host' && hostCores < limitCores) {
    r.report(at('hostCores'), 'SCENARIO_RANGE', `a host of ${hostCores} cores cannot hold a limit of ${limitCores} (limitCores)`);
  }
  const spikes = readSpikes(r, c.spikes, at('spikes'));
  return {
    model,
    view,
    limitCores,
    hostCores,
    baseline: r.optionalNumber(c.baseline, at('baseline'), { min: 0, max: 0.5 }) ?? d.baseline,
    lagSec: r.optionalNumber(c.lagSec, at('lagSec'), { min: 0, max: 60 }) ?? d.lagSec,
    amortisation: r.optionalNumber(c.amortisation, at('amortisation'), { min: 1, max: 5 }) ?? d.amortisation,
    fanoutExponent: r.optionalNumber(c.fanoutExponent, at('fanoutExponent'), { min: 1, max: 2 }) ?? d.fanoutExponent,
    spikes,
  };
}

function readSpikes(r: FieldReader, value: unknown, path: PathPart[]): BrokerCpuSpec['spikes'] {
  const d = DEFAULT_BROKER_CPU.spikes;
  if (value === undefined) return d;
  const s = r.object(value, path, ['meanIntervalSec', 'min', 'max']);
  if (!s) return d;
  const meanIntervalSec = r.optionalNumber(s.meanIntervalSec, [...path, 'meanIntervalSec'], { min: 0, max: 3600 }) ?? d.meanIntervalSec;
  const min = r.optionalNumber(s.min, [...path, 'min'], { min: 0, max: 1 }) ?? d.min;
  const max = r.optionalNumber(s.max, [...path, 'max'], { min: 0, max: 1 }) ?? d.max;
  if (min > max) r.report([...path, 'max'], 'SCENARIO_ORDER', `max (${max}) is below min (${min})`);
  return { meanIntervalSec, min, max };
}

/** The test broker's flags for this section (seconds become the flags' milliseconds). */
export function brokerCpuOptions(cpu: BrokerCpuSpec): Partial<CapacityBrokerOptions> {
  return {
    cpuModel: cpu.model,
    cpuView: cpu.view,
    cores: cpu.limitCores,
    hostCores: cpu.hostCores,
    cpuBaseline: cpu.baseline,
    cpuLagMs: Math.round(cpu.lagSec * 1000),
    cpuAmortisation: cpu.amortisation,
    cpuFanoutExponent: cpu.fanoutExponent,
    cpuSpikeIntervalMs: Math.round(cpu.spikes.meanIntervalSec * 1000),
    cpuSpikeMin: cpu.spikes.min,
    cpuSpikeMax: cpu.spikes.max,
  };
}
