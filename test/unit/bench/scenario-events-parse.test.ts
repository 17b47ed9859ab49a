import fs from 'node:fs';
import path from 'node:path';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';
import type { Problem } from '../../../src/util/result';

const BASE = `
name: t
durationSec: 60
brokers:
  - { name: b1, capacity: 100 }
  - { name: b2, capacity: 100 }
  - { name: b3, capacity: 100, startSec: 20 }
populations:
  - { name: p, count: 10, arrival: { startSec: 0 }, traffic: { kind: subscriber } }
steadyStateSec: 10
`;

function parse(extra = ''): { scenario?: Scenario; problems: Problem[] } {
  const r = parseScenario(BASE + extra, 'test.yaml');
  return r.ok ? { scenario: r.value, problems: [] } : { problems: r.problems };
}

const at = (problems: readonly Problem[], prefix: string): Problem | undefined => problems.find((p) => p.path.startsWith(prefix));

describe('parseScenario: scrape interval and windows', () => {
  it("takes mqtt-xds's production scrape interval when the scenario leaves it out", () => {
    expect(parse().scenario?.scrapeIntervalMs).toBe(5000);
    expect(parse('scrapeIntervalMs: 1000\n').scenario?.scrapeIntervalMs).toBe(1000);
  });

  it('still refuses a scrape interval out of range', () => {
    expect(at(parse('scrapeIntervalMs: 50\n').problems, 'scrapeIntervalMs')?.code).toBe('SCENARIO_RANGE');
  });

  it('reads a spike window beside the steady state', () => {
    const { scenario } = parse('spikeWindowSec: [40, 55]\n');
    expect(scenario?.spikeWindow).toEqual({ fromSec: 40, toSec: 55 });
    expect(scenario?.steadyState).toEqual({ fromSec: 50, toSec: 60 });
    expect(parse().scenario?.spikeWindow).toBeUndefined();
  });

  it('refuses a spike window that is not a window within the run', () => {
    expect(at(parse('spikeWindowSec: 30\n').problems, 'spikeWindowSec')?.code).toBe('SCENARIO_TYPE');
    expect(at(parse('spikeWindowSec: [40, 90]\n').problems, 'spikeWindowSec[1]')?.code).toBe('SCENARIO_RANGE');
    expect(at(parse('spikeWindowSec: [40, 40]\n').problems, 'spikeWindowSec')?.code).toBe('SCENARIO_ORDER');
  });
});

describe('parseScenario: metrics-lie and metrics-slow', () => {
  it('reads a lie with its mode and a slow page with its delay', () => {
    const { scenario, problems } = parse(
      'events:\n  - { atSec: 30, kind: metrics-lie, broker: b1, mode: idle }\n' +
        '  - { atSec: 40, kind: metrics-slow, broker: b2, delayMs: 3000, durationSec: 10 }\n',
    );
    expect(problems).toEqual([]);
    expect(scenario!.events.filter((e) => e.kind.startsWith('metrics-'))).toEqual([
      { atSec: 30, kind: 'metrics-lie', broker: 'b1', mode: 'idle' },
      { atSec: 40, kind: 'metrics-slow', broker: 'b2', delayMs: 3000, durationSec: 10 },
    ]);
  });

  it('suggests the mode meant by a misspelt one', () => {
    const { problems } = parse('events:\n  - { atSec: 30, kind: metrics-lie, broker: b1, mode: frozn }\n');
    expect(at(problems, 'events[0].mode')?.message).toMatch(/did you mean "frozen"/);
  });

  it('refuses fields of the other kind, a missing delay and a lie without a broker', () => {
    const { problems } = parse(
      'events:\n  - { atSec: 30, kind: metrics-lie, broker: b1, mode: idle, delayMs: 10 }\n' +
        '  - { atSec: 30, kind: metrics-slow, broker: b1 }\n' +
        '  - { atSec: 30, kind: metrics-lie, mode: doubled }\n',
    );
    expect(at(problems, 'events[0].delayMs')?.code).toBe('SCENARIO_NOT_ALLOWED');
    expect(at(problems, 'events[1].delayMs')?.code).toBe('SCENARIO_MISSING');
    expect(at(problems, 'events[2].broker')?.code).toBe('SCENARIO_MISSING');
  });

  it('lets a page lie about a broker that is not in the balancer, as noise may', () => {
    const { problems } = parse('events:\n  - { atSec: 5, kind: metrics-lie, broker: b3, mode: frozen }\n');
    expect(problems).toEqual([]);
  });
});

describe('the new shipped scenarios', () => {
  const dir = path.join(__dirname, '../../bench/lb/scenarios');
  const load = (file: string): Scenario => {
    const r = parseScenario(fs.readFileSync(path.join(dir, file), 'utf8'), file);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.value;
  };

  it('set the spike window of both overload scenarios to the spike', () => {
    expect(load('overload-spike.yaml').spikeWindow).toEqual({ fromSec: 40, toSec: 70 });
    expect(load('overload-slow-metrics.yaml').spikeWindow).toEqual({ fromSec: 40, toSec: 70 });
  });

  it("make the slow page slower than mqtt-xds's production scrape timeout", () => {
    const slow = load('overload-slow-metrics.yaml').events.find((e) => e.kind === 'metrics-slow');
    expect(slow).toMatchObject({ broker: 'b1', atSec: 40, durationSec: 30 });
    expect((slow as { delayMs: number }).delayMs).toBeGreaterThan(2000);
  });

  it('has one broker of lying-broker go idle while loaded, and churn-80 scrape at the production interval', () => {
    expect(load('lying-broker.yaml').events).toEqual([{ atSec: 30, kind: 'metrics-lie', broker: 'b1', mode: 'idle' }]);
    expect(load('churn-80.yaml').scrapeIntervalMs).toBe(5000);
  });
});
