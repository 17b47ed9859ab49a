import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filePolicyFeed, PolicySource, type AppliedPolicy } from '../../../src/config';
import type { Problem } from '../../../src/util/result';
import { createLogger } from '../../../src/util/log';

const waitFor = async (cond: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('PolicySource', () => {
  let dir: string;
  let file: string;
  let applied: AppliedPolicy[];
  let errors: Problem[][];
  let logs: string[];
  let source: PolicySource;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
    file = path.join(dir, 'policy.yaml');
    applied = [];
    errors = [];
    logs = [];
  });
  afterEach(() => {
    source?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (p: string): Promise<void> => {
    const logger = createLogger('debug', {}, (l) => logs.push(l));
    source = new PolicySource({
      feed: p === '' ? undefined : filePolicyFeed(p, logger, 50),
      logger,
      onPolicy: (a) => applied.push(a),
      onError: (e) => errors.push(e),
    });
    await source.start();
  };

  it('applies the built-in defaults when no file is configured', async () => {
    await start('');
    expect(applied.map((a) => a.source)).toEqual(['defaults']);
  });

  it('applies a file, then a change, logging the diff', async () => {
    fs.writeFileSync(file, 'catchUp: { maxBoost: 3 }\n');
    await start(file);
    expect(applied.at(-1)?.policy.catchUp.maxBoost).toBe(3);
    fs.writeFileSync(file, 'catchUp: { maxBoost: 2 }\n');
    await waitFor(() => applied.at(-1)?.policy.catchUp.maxBoost === 2, 'the change');
    const line = logs
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'policy applied')
      .at(-1);
    expect(JSON.stringify(line.diff)).toMatch(/catchUp\.maxBoost: 3 -> 2/);
  });

  it('keeps the last good policy when the file breaks, naming the problem and its line', async () => {
    fs.writeFileSync(file, 'catchUp: { maxBoost: 3 }\n');
    await start(file);
    const good = applied.length;
    fs.writeFileSync(file, 'catchUp:\n  maxBoost: -1\n');
    await waitFor(() => errors.length > 0, 'the refusal');
    expect(errors[0][0]).toMatchObject({ path: 'catchUp.maxBoost', line: 2 });
    expect(applied).toHaveLength(good);
    expect(source.applied().policy.catchUp.maxBoost).toBe(3);
  });

  it('applies nothing while the configured file is missing, says why, and applies it once it appears', async () => {
    await start(file);
    expect(applied).toHaveLength(0);
    expect(source.waiting()).toMatch(/no valid policy from file .*policy\.yaml yet: .*POLICY_FILE_UNREADABLE/);
    fs.writeFileSync(file, 'catchUp: { maxBoost: 3 }\n');
    await waitFor(() => applied.length === 1, 'the policy');
    expect(applied[0].policy.catchUp.maxBoost).toBe(3);
    expect(source.waiting()).toBeUndefined();
  });

  it('applies nothing while the configured file is invalid, naming the problem, and not the defaults', async () => {
    fs.writeFileSync(file, 'catchUp:\n  maxBoost: -1\n');
    await start(file);
    expect(applied).toHaveLength(0);
    expect(source.waiting()).toMatch(/catchUp\.maxBoost/);
    fs.writeFileSync(file, 'catchUp: { maxBoost: 2 }\n');
    await waitFor(() => applied.length === 1, 'the fixed policy');
    expect(applied[0].source).toBe(`file ${file}`);
    expect(source.waiting()).toBeUndefined();
  });

  it('is not waiting when no file is configured', async () => {
    await start('');
    expect(source.waiting()).toBeUndefined();
  });
});
