import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Broker } from '../../../src/domain/broker';
import { FileBrokerSource, type HostLookup } from '../../../src/discovery';
import { createLogger } from '../../../src/util/log';
import type { Problem } from '../../../src/util/result';

const brokersYaml = (...brokers: Array<[string, number]>): string =>
  'brokers:\n' + brokers.map(([name, port]) => `  - name: ${name}\n    host: 127.0.0.1\n    port: ${port}\n`).join('');

async function waitFor(what: string, check: () => boolean, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Harness {
  source: FileBrokerSource;
  applied: Array<{ brokers: Broker[]; contentHash: string }>;
  errors: Problem[][];
  logs: Array<Record<string, unknown>>;
}

describe('FileBrokerSource', () => {
  let dir: string;
  let file: string;
  const started: FileBrokerSource[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqtt-xds-brokers-'));
    file = join(dir, 'brokers.yaml');
  });

  afterEach(() => {
    for (const s of started.splice(0)) s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function harness(path = file, lookup?: HostLookup, extra: { dnsTimeoutMs?: number } = {}): Harness {
    const h: Omit<Harness, 'source'> = { applied: [], errors: [], logs: [] };
    const logger = createLogger('debug', {}, (line) => h.logs.push(JSON.parse(line) as Record<string, unknown>));
    const source = new FileBrokerSource({
      path,
      logger,
      onBrokers: (brokers, meta) => h.applied.push({ brokers, contentHash: meta.contentHash }),
      onError: (problems) => h.errors.push(problems),
      pollIntervalMs: 50,
      debounceMs: 20,
      ...(lookup === undefined ? {} : { lookup }),
      ...extra,
    });
    started.push(source);
    return { ...h, source };
  }

  it('loads the file once before start() resolves', async () => {
    writeFileSync(file, brokersYaml(['b', 2], ['a', 1]));
    const h = harness();
    await h.source.start();
    expect(h.applied).toHaveLength(1);
    expect(h.applied[0].brokers.map((b) => b.name)).toEqual(['a', 'b']);
    expect(h.applied[0].contentHash).toMatch(/^[0-9a-f]{16}$/);
    expect(h.source.lastGood()).toEqual(h.applied[0].brokers);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'brokers applied', added: ['a', 'b'], removed: [], changed: [] }));
  });

  it('resolves start() after a failed first load and reports the problems', async () => {
    writeFileSync(file, 'brokers: []\n');
    const h = harness();
    await h.source.start();
    expect(h.applied).toEqual([]);
    expect(h.errors[0][0].code).toBe('BROKERS_EMPTY');
    expect(h.source.lastGood()).toBeUndefined();
  });

  it('reports a missing file and picks it up once it appears', async () => {
    const h = harness();
    await h.source.start();
    expect(h.errors[0][0].code).toBe('BROKERS_FILE_UNREADABLE');
    writeFileSync(file, brokersYaml(['a', 1]));
    await waitFor('the new file', () => h.applied.length === 1);
  });

  it('applies a rewritten file and logs what changed', async () => {
    writeFileSync(file, brokersYaml(['a', 1], ['b', 2]));
    const h = harness();
    await h.source.start();
    writeFileSync(file, brokersYaml(['a', 1], ['b', 3], ['c', 4]));
    await waitFor('the rewrite', () => h.applied.length === 2);
    expect(h.applied[1].brokers.map((b) => [b.name, b.port])).toEqual([
      ['a', 1],
      ['b', 3],
      ['c', 4],
    ]);
    expect(h.applied[1].contentHash).not.toBe(h.applied[0].contentHash);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'brokers applied', added: ['c'], removed: [], changed: ['b'] }));
  });

  it('applies a file replaced by an atomic rename', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    const tmp = join(dir, '.brokers.yaml.tmp');
    writeFileSync(tmp, brokersYaml(['z', 9]));
    renameSync(tmp, file);
    await waitFor('the renamed file', () => h.applied.length === 2);
    expect(h.applied[1].brokers.map((b) => b.name)).toEqual(['z']);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'brokers applied', added: ['z'], removed: ['a'] }));
  });

  it('follows a Kubernetes-style ConfigMap symlink swap', async () => {
    const publish = (version: string, text: string): void => {
      mkdirSync(join(dir, version));
      writeFileSync(join(dir, version, 'brokers.yaml'), text);
      symlinkSync(version, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    publish('..v1', brokersYaml(['a', 1]));
    symlinkSync(join('..data', 'brokers.yaml'), file);
    const h = harness();
    await h.source.start();
    publish('..v2', brokersYaml(['a', 1], ['b', 2]));
    await waitFor('the swapped ConfigMap', () => h.applied.length === 2);
    expect(h.applied[1].brokers.map((b) => b.name)).toEqual(['a', 'b']);
  });

  it('keeps the last good set when a broken file is written, then applies the fix', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    writeFileSync(file, 'brokers:\n  - name: a\n    host: 127.0.0.1\n    port: 99999\n');
    await waitFor('the error', () => h.errors.length === 1);
    expect(h.errors[0]).toEqual([expect.objectContaining({ code: 'BROKER_PORT_RANGE', path: 'brokers[0].port', line: 4 })]);
    expect(h.applied).toHaveLength(1);
    expect(h.source.lastGood()?.map((b) => b.port)).toEqual([1]);

    // Going back to the old content must still be announced: consumers saw the error.
    writeFileSync(file, brokersYaml(['a', 1]));
    await waitFor('the recovery', () => h.applied.length === 2);
    expect(h.applied[1].contentHash).toBe(h.applied[0].contentHash);
  });

  it('treats a half-written (empty) file as an error, not as "no brokers"', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    writeFileSync(file, '');
    await waitFor('the error', () => h.errors.length === 1);
    expect(h.errors[0][0].code).toBe('BROKERS_EMPTY');
    expect(h.source.lastGood()?.map((b) => b.name)).toEqual(['a']);
  });

  it('does not announce a change that leaves the broker set as it was', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    writeFileSync(file, '# a comment\n' + brokersYaml(['a', 1]));
    await waitFor('the reload', () => h.logs.some((l) => l.msg === 'brokers file changed but the broker set did not'));
    expect(h.applied).toHaveLength(1);
    expect(h.errors).toEqual([]);
  });

  it('carries an agentUrl to the Broker and announces adding one as a change', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    expect(h.applied[0].brokers[0].agentUrl).toBeUndefined();
    writeFileSync(file, brokersYaml(['a', 1]) + '    agentUrl: http://127.0.0.1:9401\n');
    await waitFor('the rewrite', () => h.applied.length === 2);
    expect(h.applied[1].brokers).toEqual([{ name: 'a', address: '127.0.0.1', port: 1, agentUrl: 'http://127.0.0.1:9401' }]);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'brokers applied', added: [], removed: [], changed: ['a'] }));
  });

  it('retries a failed DNS lookup without waiting for the file to change', async () => {
    let dnsUp = false;
    const lookup: HostLookup = async (host) => {
      if (!dnsUp) throw new Error(`getaddrinfo EAI_AGAIN ${host}`);
      return [{ address: '10.1.2.3', family: 4 }];
    };
    writeFileSync(file, 'brokers:\n  - name: a\n    host: broker-0.hivemq\n    port: 1883\n');
    const h = harness(file, lookup);
    await h.source.start();
    expect(h.errors[0][0]).toMatchObject({ code: 'BROKER_DNS_FAILED', path: 'brokers[0].host' });
    dnsUp = true;
    await waitFor('the retry', () => h.applied.length === 1);
    expect(h.applied[0].brokers[0].address).toBe('10.1.2.3');
  });

  it('gives up on a DNS lookup that never answers, with a coded problem', async () => {
    const never: HostLookup = () => new Promise(() => undefined);
    writeFileSync(file, 'brokers:\n  - name: a\n    host: broker-0.hivemq\n    port: 1883\n');
    const h = harness(file, never, { dnsTimeoutMs: 50 });
    await h.source.start();
    expect(h.errors[0][0]).toMatchObject({ code: 'BROKER_DNS_TIMEOUT', path: 'brokers[0].host' });
    expect(h.applied).toEqual([]);
  });

  it('applies a later file while a lookup for an earlier one is still pending, and the late answer never wins', async () => {
    let answer: ((a: Array<{ address: string; family: number }>) => void) | undefined;
    const pending: HostLookup = () => new Promise((res) => (answer = res));
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness(file, pending, { dnsTimeoutMs: 60_000 });
    await h.source.start();
    writeFileSync(file, 'brokers:\n  - name: slow\n    host: broker-0.hivemq\n    port: 1883\n');
    await waitFor('the lookup to start', () => answer !== undefined);
    writeFileSync(file, brokersYaml(['b', 2]));
    await waitFor('the later file', () => h.applied.length === 2);
    expect(h.applied[1].brokers.map((b) => b.name)).toEqual(['b']);
    answer?.([{ address: '10.1.2.3', family: 4 }]);
    await sleep(100);
    expect(h.applied).toHaveLength(2);
    expect(h.source.lastGood()?.map((b) => b.name)).toEqual(['b']);
  });

  it('reports nothing after stop()', async () => {
    writeFileSync(file, brokersYaml(['a', 1]));
    const h = harness();
    await h.source.start();
    h.source.stop();
    writeFileSync(file, brokersYaml(['b', 2]));
    writeFileSync(join(dir, 'other'), 'x');
    await sleep(300);
    expect(h.applied).toHaveLength(1);
    expect(h.errors).toEqual([]);
  });
});
