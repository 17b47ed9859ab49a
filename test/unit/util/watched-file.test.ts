import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WatchedFile } from '../../../src/util/watched-file';
import { createLogger } from '../../../src/util/log';

const FULL = 'brokers:\n  - name: a\n    host: 10.0.0.1\n    port: 36749\n';
// Cut inside `port: 36749`: still valid YAML, with the wrong port.
const CUT = FULL.slice(0, FULL.indexOf('36749') + 2);

describe('WatchedFile settling', () => {
  let dir: string;
  let file: string;
  const started: WatchedFile[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqtt-xds-watched-'));
    file = join(dir, 'brokers.yaml');
  });

  afterEach(() => {
    for (const w of started.splice(0)) w.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function watched(sleep: (ms: number) => Promise<void>, settleMs = 300) {
    const texts: string[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger('debug', {}, (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const w = new WatchedFile({
      path: file,
      logger,
      settleMs,
      sleep,
      pollIntervalMs: 60_000,
      onText: async (text) => {
        texts.push(text);
      },
      onReadError: (err) => {
        throw err;
      },
    });
    started.push(w);
    return { w, texts, logs };
  }

  it('never hands on a half-written file that is completed within the settle window', async () => {
    writeFileSync(file, CUT);
    const waits: number[] = [];
    const { w, texts } = watched(async (ms) => {
      // The writer finishes while the reader waits for the file to settle.
      if (waits.push(ms) === 1) writeFileSync(file, FULL);
    });
    await w.start();
    expect(texts).toEqual([FULL]);
    expect(waits).toEqual([300, 300]);
  });

  it('does not use a file that keeps changing, and says so', async () => {
    writeFileSync(file, 'v0');
    let n = 0;
    const { w, texts, logs } = watched(async () => {
      n += 1;
      writeFileSync(file, `v${n}`);
    });
    await w.start();
    w.stop();
    expect(texts).toEqual([]);
    expect(n).toBeLessThan(20);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'file keeps changing; not using it until it settles' }));
  });

  it('hands on a settled file once, and skips a re-read of the same bytes', async () => {
    writeFileSync(file, FULL);
    const { w, texts } = watched(async () => undefined);
    await w.start();
    w.schedule();
    await new Promise((r) => setTimeout(r, 150));
    expect(texts).toEqual([FULL]);
  });
});
