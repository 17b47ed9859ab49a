import { FanOut, HeldWriter, type WritableCall } from '../../../src/xds/fan-out';
import { CLUSTER, ENDPOINT, type TypeUrl } from '../../../src/xds/type-urls';

describe('FanOut', () => {
  const setup = (batch: number) => {
    const served: Array<{ item: number; types: TypeUrl[] }> = [];
    const later: Array<() => void> = [];
    const f = new FanOut<number>({
      batch,
      defer: (next) => later.push(next),
      serve: (item, changed) => served.push({ item, types: [...changed] }),
    });
    const turn = (): void => later.shift()!();
    return { f, served, later, turn };
  };

  it('serves the first batch at once and the rest in later turns, in order', () => {
    const { f, served, later, turn } = setup(3);
    f.start([1, 2, 3, 4, 5, 6, 7], new Set([ENDPOINT]));
    expect(served.map((s) => s.item)).toEqual([1, 2, 3]);
    expect(later).toHaveLength(1);
    turn();
    expect(served.map((s) => s.item)).toEqual([1, 2, 3, 4, 5, 6]);
    turn();
    expect(served.map((s) => s.item)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(later).toHaveLength(0);
    expect(f.pending()).toBe(0);
  });

  it('a snapshot during a fan-out makes every stream due again, with the types of both', () => {
    const { f, served, turn } = setup(2);
    f.start([1, 2, 3, 4], new Set([ENDPOINT]));
    f.start([1, 2, 3, 4], new Set([CLUSTER]));
    turn();
    turn();
    expect(served.map((s) => s.item)).toEqual([1, 2, 3, 4, 1, 2]);
    expect(served.slice(2).every((s) => s.types.includes(ENDPOINT) && s.types.includes(CLUSTER))).toBe(true);
    // Once all are served, the next snapshot starts from its own types only.
    f.start([1], new Set([CLUSTER]));
    expect(served.at(-1)).toEqual({ item: 1, types: [CLUSTER] });
  });

  it('does not serve a stream that closed before its turn, and forgets everything on clear', () => {
    const { f, served, later } = setup(2);
    f.start([1, 2, 3, 4], new Set([ENDPOINT]));
    f.remove(3);
    later.shift()!();
    expect(served.map((s) => s.item)).toEqual([1, 2, 4]);
    f.start([5, 6, 7], new Set([ENDPOINT]));
    f.clear();
    later.shift()?.();
    expect(served.map((s) => s.item)).toEqual([1, 2, 4, 5, 6]);
  });
});

describe('HeldWriter', () => {
  class FakeCall implements WritableCall {
    written: string[] = [];
    full = false;
    private drain: (() => void) | undefined;
    write(bytes: Buffer): boolean {
      this.written.push(bytes.toString());
      return !this.full;
    }
    once(_e: 'drain', l: () => void): void {
      this.drain = l;
    }
    drained(): void {
      this.full = false;
      const l = this.drain;
      this.drain = undefined;
      l?.();
    }
  }
  const r = (s: string) => [{ bytes: Buffer.from(s) }];

  it('holds snapshots back while the buffer is full, then sends only the newest state once', () => {
    const call = new FakeCall();
    let newest = 'v1';
    const w = new HeldWriter(
      call,
      () => r(`catch-up ${newest}`),
      () => true,
    );
    call.full = true;
    w.snapshot(() => r('v1'));
    expect(w.isBlocked()).toBe(true);
    for (const v of ['v2', 'v3', 'v4']) {
      newest = v;
      w.snapshot(() => r(v));
    }
    expect(call.written).toEqual(['v1']);
    call.drained();
    expect(call.written).toEqual(['v1', 'catch-up v4']);
    expect(w.isBlocked()).toBe(false);
    w.snapshot(() => r('v5'));
    expect(call.written).toEqual(['v1', 'catch-up v4', 'v5']);
  });

  it('always writes what a request produced, and sends nothing after a drain when nothing was owed or the stream closed', () => {
    const call = new FakeCall();
    let open = true;
    const w = new HeldWriter(
      call,
      () => r('catch-up'),
      () => open,
    );
    call.full = true;
    w.write(r('answer 1'));
    w.write(r('answer 2'));
    call.drained();
    expect(call.written).toEqual(['answer 1', 'answer 2']);
    call.full = true;
    w.write(r('answer 3'));
    w.snapshot(() => r('v9'));
    open = false;
    call.drained();
    expect(call.written).toEqual(['answer 1', 'answer 2', 'answer 3']);
  });
});
