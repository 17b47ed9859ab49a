import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Counter, Registry } from 'prom-client';
import { defaultConfig, withOverrides, type Policy } from '../../../src/config';
import type { Broker } from '../../../src/domain';
import { DiscoveryRunner, LeaderRunner, PolicyRunner } from '../../../src/runners';
import { silentLogger } from '../../../src/util/log';

const waitFor = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('stage runners', () => {
  let dir: string;
  let registry: Registry;
  let rejected: Counter<'stage' | 'code'>;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runners-'));
    registry = new Registry();
    rejected = new Counter({ name: 'mqtt_xds_input_rejected_total', help: 'h', labelNames: ['stage', 'code'], registers: [registry] });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('discovery keeps the last good brokers, reports and counts a refused file', async () => {
    const brokersFile = path.join(dir, 'brokers.yaml');
    fs.writeFileSync(brokersFile, 'brokers:\n  - name: a\n    host: 127.0.0.1\n    port: 1883\n');
    const seen: (readonly Broker[])[] = [];
    const config = withOverrides(defaultConfig(dir), { discovery: { brokersFile } });
    const runner = new DiscoveryRunner({ config, logger: silentLogger, registry, rejected, onBrokers: (b) => seen.push(b) });
    await runner.start();
    try {
      expect(runner.brokers().map((b) => b.name)).toEqual(['a']);
      expect(runner.status()).toEqual({ discoveryProblems: [], discoverySynced: true });
      fs.writeFileSync(brokersFile, 'brokers: 7\n');
      await waitFor(() => runner.currentProblems().length > 0, 'the refusal');
      expect(runner.brokers().map((b) => b.name)).toEqual(['a']);
      expect(seen).toHaveLength(1);
      expect(await registry.getSingleMetricAsString('mqtt_xds_input_rejected_total')).toMatch(/stage="discovery"/);
    } finally {
      runner.stop();
    }
  });

  it('discovery waits discovery.brokersFileSettleMs for a changed file to settle (0: uses the first read)', async () => {
    const brokersFile = path.join(dir, 'brokers.yaml');
    const one = (name: string): string => `brokers:\n  - name: ${name}\n    host: 127.0.0.1\n    port: 1883\n`;
    const names = (r: DiscoveryRunner): string[] => r.brokers().map((b) => b.name);
    const start = async (settleMs: number): Promise<DiscoveryRunner> => {
      fs.writeFileSync(brokersFile, one('a'));
      const config = withOverrides(defaultConfig(dir), { discovery: { brokersFile, brokersFileSettleMs: settleMs } });
      const runner = new DiscoveryRunner({ config, logger: silentLogger, registry: new Registry(), rejected, onBrokers: () => undefined });
      await runner.start();
      return runner;
    };
    // The first read settles too, so start() itself takes the slow runner's settle time.
    const slow = await start(2500);
    try {
      fs.writeFileSync(brokersFile, one('b'));
      await new Promise((r) => setTimeout(r, 1500));
      expect(names(slow)).toEqual(['a']);
    } finally {
      slow.stop();
    }
    const fast = await start(0);
    try {
      fs.writeFileSync(brokersFile, one('b'));
      await waitFor(() => names(fast)[0] === 'b', 'the change');
    } finally {
      fast.stop();
    }
  }, 20_000);

  it('policy reports what is applied without the policy body, and the problems of a refused document', async () => {
    const policyFile = path.join(dir, 'policy.yaml');
    fs.writeFileSync(policyFile, 'catchUp: { maxBoost: 3 }\n');
    const applied: Policy[] = [];
    const config = withOverrides(defaultConfig(dir), { balancing: { policyFile } });
    const runner = new PolicyRunner({ config, logger: silentLogger, rejected, onPolicy: (p) => applied.push(p) });
    await runner.start();
    try {
      expect(applied.map((p) => p.catchUp.maxBoost)).toEqual([3]);
      const status = runner.status();
      expect(Object.keys(status.policy).sort()).toEqual(['appliedAt', 'hash', 'source']);
      expect(status.policy.source).toBe(`file ${policyFile}`);
      expect(status.policyProblems).toEqual([]);
    } finally {
      runner.stop();
    }
  });

  it('leader election: without a lease this replica leads, and /status shows null', () => {
    const runner = new LeaderRunner({ config: defaultConfig(dir), logger: silentLogger, registry });
    expect(runner.isLeader()).toBe(true);
    expect(runner.status()).toBeNull();
  });
});
