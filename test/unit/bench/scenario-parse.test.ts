import fs from 'node:fs';
import path from 'node:path';
import { brokersKilledBy, brokersPresentAt, type Scenario } from '../../../test/bench/lb/scenario';
import { MAX_TOTAL_CLIENTS, parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Problem } from '../../../src/util/result';

const BASE = `
name: t
durationSec: 60
scrapeIntervalMs: 1000
brokers:
  - { name: b1, capacity: 100 }
  - { name: b2, capacity: 100 }
  - { name: b3, capacity: 100, startSec: 20 }
populations:
  - name: p
    count: 10
    arrival: { startSec: 0, rampSec: 5 }
    traffic: { kind: cheap-publisher, publishPerSec: 0.1 }
steadyStateSec: 10
`;

function parse(extra = '', base = BASE): { scenario?: Scenario; problems: Problem[] } {
  const r = parseScenario(base + extra, 'test.yaml');
  return r.ok ? { scenario: r.value, problems: [] } : { problems: r.problems };
}

function problemAt(problems: readonly Problem[], pathPrefix: string): Problem | undefined {
  return problems.find((p) => p.path.startsWith(pathPrefix));
}

describe('parseScenario: the existing schema', () => {
  it('fills every default and turns startSec into a join event', () => {
    const { scenario } = parse();
    expect(scenario).toBeDefined();
    expect(scenario!.seed).toBe(1);
    expect(scenario!.envoys).toBe(1);
    expect(scenario!.agents).toBe(false);
    expect(scenario!.rebalanceTickMs).toBeUndefined();
    expect(scenario!.initialBrokers).toEqual(['b1', 'b2']);
    expect(scenario!.events).toEqual([{ atSec: 20, kind: 'broker-join', broker: 'b3' }]);
    expect(scenario!.steadyState).toEqual({ fromSec: 50, toSec: 60 });
    expect(scenario!.populations[0].reconnect).toEqual({ minBackoffMs: 200, maxBackoffMs: 10_000 });
    expect(scenario!.populations[0].traffic).toEqual({ kind: 'cheap-publisher', publishPerSec: 0.1, topic: 'bench/cheap', group: 'g' });
  });

  it('reports a misspelt event kind with a suggestion, its path and its line', () => {
    const { problems } = parse('events:\n  - { atSec: 5, kind: overlaod, broker: b1, level: 3 }\n');
    const p = problemAt(problems, 'events[0].kind');
    expect(p?.message).toMatch(/did you mean "overload"/);
    // BASE opens with an empty line and has 14; the event is the 16th.
    expect(p?.line).toBe(16);
  });

  it('lists several mistakes at once', () => {
    const { problems } = parse(
      'events:\n  - { atSec: 5, kind: overload, broker: b9, level: 3 }\n  - { atSec: 6, kind: noise, ratio: 2 }\n',
    );
    expect(problemAt(problems, 'events[0].broker')?.code).toBe('SCENARIO_UNKNOWN_BROKER');
    expect(problemAt(problems, 'events[1].ratio')?.code).toBe('SCENARIO_RANGE');
  });

  it('refuses an event for a broker that has not joined yet', () => {
    const { problems } = parse('events:\n  - { atSec: 10, kind: extra-load, broker: b3, extraCost: 5 }\n');
    expect(problemAt(problems, 'events[0]')?.code).toBe('SCENARIO_TIMELINE');
  });

  it('refuses more clients than the machine allows', () => {
    const big = BASE.replace('count: 10', `count: ${MAX_TOTAL_CLIENTS + 1}`);
    const { problems } = parse('', big);
    expect(problems.some((p) => p.code === 'SCENARIO_TOO_BIG' || p.code === 'SCENARIO_RANGE')).toBe(true);
  });

  it('allows 4000 clients, enough for four brokers of 1000', () => {
    const { scenario } = parse('', BASE.replace('count: 10', 'count: 4000').replace('publishPerSec: 0.1', 'publishPerSec: 0.02'));
    expect(scenario?.populations[0].count).toBe(4000);
  });

  it('refuses a policy that mqtt-xds would refuse, under the policy path', () => {
    const { problems } = parse('policy:\n  rebalance: { mode: sometimes }\n');
    expect(problemAt(problems, 'policy')?.message).toMatch(/rebalance\.mode/);
  });
});

describe('parseScenario: drains, kills and agents', () => {
  it('reads agents, rebalanceTickMs, a drain and a kill, sorted by time', () => {
    const { scenario, problems } = parse(
      'agents: true\nrebalanceTickMs: 500\nevents:\n  - { atSec: 40, kind: kill, broker: b2 }\n  - { atSec: 30, kind: drain, broker: b1 }\n',
    );
    expect(problems).toEqual([]);
    expect(scenario!.agents).toBe(true);
    expect(scenario!.rebalanceTickMs).toBe(500);
    expect(scenario!.events).toEqual([
      { atSec: 20, kind: 'broker-join', broker: 'b3' },
      { atSec: 30, kind: 'drain', broker: 'b1' },
      { atSec: 40, kind: 'kill', broker: 'b2' },
    ]);
    expect([...brokersKilledBy(scenario!, 39)]).toEqual([]);
    expect([...brokersKilledBy(scenario!, 40)]).toEqual(['b2']);
    // A killed broker stays in the balancer's configuration.
    expect(brokersPresentAt(scenario!, 50).has('b2')).toBe(true);
  });

  it('refuses fields a drain or a kill does not take', () => {
    const { problems } = parse(
      'events:\n  - { atSec: 30, kind: drain, broker: b1, durationSec: 5 }\n  - { atSec: 31, kind: kill, broker: b2, level: 3 }\n',
    );
    expect(problemAt(problems, 'events[0].durationSec')?.message).toMatch(/a drain event has no durationSec/);
    expect(problemAt(problems, 'events[1].level')?.message).toMatch(/a kill event has no level/);
  });

  it('refuses a drain or a kill without a broker, or of an unknown one', () => {
    const { problems } = parse('events:\n  - { atSec: 30, kind: drain }\n  - { atSec: 31, kind: kill, broker: b7 }\n');
    expect(problemAt(problems, 'events[0].broker')?.code).toBe('SCENARIO_MISSING');
    expect(problemAt(problems, 'events[1].broker')?.code).toBe('SCENARIO_UNKNOWN_BROKER');
  });

  it('refuses a drain of a broker before it joined', () => {
    const { problems } = parse('events:\n  - { atSec: 10, kind: drain, broker: b3 }\n');
    expect(problemAt(problems, 'events[0]')?.message).toMatch(/not in the balancer at 10 s/);
  });

  it('refuses draining the same broker twice', () => {
    const { problems } = parse('events:\n  - { atSec: 30, kind: drain, broker: b1 }\n  - { atSec: 35, kind: drain, broker: b1 }\n');
    expect(problemAt(problems, 'events[1]')?.message).toMatch(/drained twice/);
  });

  it('refuses any event but a leave for a broker after it was killed', () => {
    const { problems } = parse(
      'events:\n  - { atSec: 30, kind: kill, broker: b1 }\n  - { atSec: 35, kind: overload, broker: b1, level: 5 }\n  - { atSec: 36, kind: broker-leave, broker: b1 }\n',
    );
    expect(problems).toHaveLength(1);
    expect(problemAt(problems, 'events[1]')?.message).toMatch(/was killed before 35 s/);
  });

  it('refuses a kill or drain that leaves no serving broker', () => {
    const kills = parse(
      'events:\n  - { atSec: 21, kind: kill, broker: b1 }\n  - { atSec: 22, kind: kill, broker: b2 }\n  - { atSec: 23, kind: kill, broker: b3 }\n',
    );
    expect(kills.problems.map((p) => p.path)).toEqual(['events[2]']);
    expect(kills.problems[0].message).toMatch(/no serving broker/);
    const mixed = parse('events:\n  - { atSec: 5, kind: drain, broker: b1 }\n  - { atSec: 6, kind: kill, broker: b2 }\n');
    expect(mixed.problems.map((p) => p.path)).toEqual(['events[1]']);
  });

  it('refuses agents that are not a boolean', () => {
    const { problems } = parse('agents: yes please\n');
    expect(problemAt(problems, 'agents')?.code).toBe('SCENARIO_TYPE');
  });
});

describe('the shipped scenarios', () => {
  const dir = path.join(__dirname, '../../bench/lb/scenarios');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s parses', (file) => {
    const r = parseScenario(fs.readFileSync(path.join(dir, file), 'utf8'), file);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });

  it('include the three scenarios of moving connections on purpose', () => {
    expect(files).toEqual(expect.arrayContaining(['scale-out-3-to-4-agent.yaml', 'drain-1-of-4.yaml', 'reconnect-storm.yaml']));
  });
});
