import { FakeClock } from '../../../src/util/clock';

describe('FakeClock', () => {
  it('fires due timers in order, each at its own time, and not the ones still ahead', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.nowMs()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.nowMs()}`), 10);
    clock.setTimeout(() => fired.push('c'), 50);
    clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@20']);
    expect(clock.nowMs()).toBe(30);
    expect(clock.pending()).toBe(1);
  });

  it('fires a timer set by a firing timer when it falls inside the same advance', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.nowMs()), 5), 5);
    clock.advance(10);
    expect(fired).toEqual([10]);
  });

  it('never fires a cleared timer', () => {
    const clock = new FakeClock(0);
    const fn = jest.fn();
    const handle = clock.setTimeout(fn, 5);
    clock.clearTimeout(handle);
    clock.advance(10);
    expect(fn).not.toHaveBeenCalled();
  });
});
