import { parseCapacityBrokerArgs, capacityBrokerArgs } from '../../../test/tools/testbroker/capacity-config';
import { brokerCpuOptions, DEFAULT_BROKER_CPU } from '../../../test/bench/lb/scenario-broker-cpu';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';
import type { Problem } from '../../../src/util/result';

const scenarioWith = (cpu: string): string => `
name: t
durationSec: 60
scrapeIntervalMs: 1000
brokers:
  - { name: b1, capacity: 100 }
  - name: b2
    capacity: 100
${cpu
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
populations:
  - name: p
    count: 10
    arrival: { startSec: 0, rampSec: 5 }
    traffic: { kind: cheap-publisher, publishPerSec: 0.1 }
steadyStateSec: 10
`;

const describeAll = (problems: readonly Problem[]): string => problems.map((p) => `${p.path}: ${p.message}`).join('\n');

function parse(cpu: string): { scenario?: Scenario; problems: Problem[] } {
  const r = parseScenario(scenarioWith(cpu), 'test.yaml');
  return r.ok ? { scenario: r.value, problems: [] } : { problems: r.problems };
}

describe('scenario brokers: the cpu section', () => {
  it('gives every broker the realistic model over its own limit by default', () => {
    const { scenario } = parse('');
    expect(scenario!.brokers.map((b) => b.cpu)).toEqual([DEFAULT_BROKER_CPU, DEFAULT_BROKER_CPU]);
    expect(DEFAULT_BROKER_CPU).toMatchObject({ model: 'realistic', view: 'limit', limitCores: 1, hostCores: 8, lagSec: 2.5 });
  });

  it('takes each field, keeping the defaults of the others', () => {
    const { scenario, problems } = parse(
      'cpu: { model: realistic, view: rounded, limitCores: 0.25, baseline: 0.03, spikes: { meanIntervalSec: 20, max: 0.4 } }',
    );
    expect(problems).toEqual([]);
    expect(scenario!.brokers[1].cpu).toEqual({
      ...DEFAULT_BROKER_CPU,
      view: 'rounded',
      limitCores: 0.25,
      baseline: 0.03,
      spikes: { meanIntervalSec: 20, min: 0.2, max: 0.4 },
    });
    expect(scenario!.brokers[0].cpu).toEqual(DEFAULT_BROKER_CPU);
  });

  it('lists every mistake with its path', () => {
    const { problems } = parse(
      'cpu: { model: perfect, view: hots, limitCores: 0, hostCores: 2.5, lagSec: -1, spikes: { min: 0.6, max: 0.3 }, noise: 1 }',
    );
    const text = describeAll(problems);
    expect(text).toContain('brokers[1].cpu.model: expected one of ideal, realistic, got the string "perfect"');
    expect(text).toContain('brokers[1].cpu.view: expected one of limit, host, rounded, got the string "hots" (did you mean "host"?)');
    expect(text).toContain('brokers[1].cpu.limitCores: expected a number above 0 to 1024, got 0');
    expect(text).toContain('brokers[1].cpu.hostCores: expected an integer from 1 to 1024');
    expect(text).toContain('brokers[1].cpu.lagSec: expected a number from 0 to 60, got -1');
    expect(text).toContain('brokers[1].cpu.spikes.max: max (0.3) is below min (0.6)');
    expect(text).toContain('brokers[1].cpu.noise: unknown key');
  });

  it('refuses a host view whose host is smaller than the limit', () => {
    const { problems } = parse('cpu: { view: host, limitCores: 4, hostCores: 2 }');
    expect(describeAll(problems)).toContain('brokers[1].cpu.hostCores: a host of 2 cores cannot hold a limit of 4 (limitCores)');
  });

  it('launches the broker with flags it accepts, seconds turned into milliseconds', () => {
    const { scenario } = parse('cpu: { model: ideal, view: host, hostCores: 16, lagSec: 1.5, spikes: { meanIntervalSec: 0 } }');
    const options = brokerCpuOptions(scenario!.brokers[1].cpu);
    expect(options).toMatchObject({ cpuModel: 'ideal', cpuView: 'host', hostCores: 16, cpuLagMs: 1500, cpuSpikeIntervalMs: 0 });
    const parsed = parseCapacityBrokerArgs(capacityBrokerArgs({ capacity: 100, ...options }));
    expect(parsed.ok && !parsed.value.help && parsed.value.options).toMatchObject(options);
    const defaults = parseCapacityBrokerArgs(capacityBrokerArgs({ capacity: 100, ...brokerCpuOptions(DEFAULT_BROKER_CPU) }));
    expect(defaults.ok && !defaults.value.help && defaults.value.options).toMatchObject({
      cpuModel: 'realistic',
      cpuSpikeIntervalMs: 30_000,
    });
  });
});
