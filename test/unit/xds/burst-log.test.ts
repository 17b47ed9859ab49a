import { createLogger } from '../../../src/util/log';
import { BurstLog, OTHER_REASONS, SUMMARY_NODES, SUMMARY_REASONS } from '../../../src/xds/burst-log';

describe('BurstLog', () => {
  const setup = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
    const log = new BurstLog(logger, {
      message: 'envoy connected',
      summary: 'envoys connected',
      intervalMs: 500,
      schedule: (fn, ms) => {
        const t = { fn, ms, cancelled: false };
        timers.push(t);
        return () => (t.cancelled = true);
      },
    });
    const stream = (n: number) => logger.child({ stream: n });
    const fire = (): void => {
      const t = timers.find((x) => !x.cancelled)!;
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    };
    const info = () => lines.filter((l) => l.level === 'info');
    return { lines, log, stream, fire, timers, info };
  };

  it('logs an event that comes alone at info, with its stream and fields', () => {
    const { log, stream, info, timers } = setup();
    log.note(stream(1), { node: 'envoy-1', cluster: 'edge' }, 'envoy-1');
    expect(info()).toEqual([expect.objectContaining({ msg: 'envoy connected', stream: 1, node: 'envoy-1', cluster: 'edge' })]);
    expect(timers).toEqual([expect.objectContaining({ ms: 500 })]);
  });

  it('summarises the rest of a burst once per interval, each event still at debug', () => {
    const { log, stream, fire, info, lines } = setup();
    for (let i = 1; i <= 4; i++) log.note(stream(i), { node: `envoy-${i}` }, `envoy-${i}`);
    expect(info()).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'debug' && l.msg === 'envoy connected').map((l) => l.stream)).toEqual([2, 3, 4]);
    fire();
    expect(info()[1]).toEqual(expect.objectContaining({ msg: 'envoys connected', count: 3, nodes: ['envoy-2', 'envoy-3', 'envoy-4'] }));
    // The burst goes on: the next event is counted for the next summary, not logged alone.
    log.note(stream(5), { node: 'envoy-5' }, 'envoy-5');
    expect(info()).toHaveLength(2);
    fire();
    expect(info()[2]).toEqual(expect.objectContaining({ count: 1, nodes: ['envoy-5'] }));
  });

  it('ends a burst after an interval with no events, so the next event gets its own line', () => {
    const { log, stream, fire, info, timers } = setup();
    log.note(stream(1), {}, 'envoy-1');
    fire();
    expect(timers).toHaveLength(0);
    log.note(stream(2), { node: 'envoy-2' }, 'envoy-2');
    expect(info().map((l) => l.msg)).toEqual(['envoy connected', 'envoy connected']);
  });

  it('names at most SUMMARY_NODES nodes and SUMMARY_REASONS reasons, counting the rest', () => {
    const { log, stream, fire, info } = setup();
    log.note(stream(0), {}, 'first', 'first');
    const n = SUMMARY_NODES + SUMMARY_REASONS + 5;
    for (let i = 1; i <= n; i++) log.note(stream(i), {}, `envoy-${i}`, `reason ${i}`);
    fire();
    const summary = info()[1] as { count: number; nodes: string[]; reasons: Record<string, number> };
    expect(summary.count).toBe(n);
    expect(summary.nodes).toHaveLength(SUMMARY_NODES);
    expect(Object.keys(summary.reasons)).toHaveLength(SUMMARY_REASONS + 1);
    expect(summary.reasons[OTHER_REASONS]).toBe(n - SUMMARY_REASONS);
  });

  it('flush logs what the interval counted and cancels its timer', () => {
    const { log, stream, info, timers } = setup();
    log.note(stream(1), {}, 'envoy-1', 'cancelled');
    log.note(stream(2), {}, 'envoy-2', 'cancelled');
    log.flush();
    expect(info()[1]).toEqual(expect.objectContaining({ count: 1, reasons: { cancelled: 1 } }));
    expect(timers.every((t) => t.cancelled)).toBe(true);
    log.note(stream(3), {}, 'envoy-3');
    expect(info()[2]).toEqual(expect.objectContaining({ msg: 'envoy connected', stream: 3 }));
  });
});
