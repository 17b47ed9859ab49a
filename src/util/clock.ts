// The one source of time and timers for the runners. Injected, so every timer (debounce,
// push gate, retries) can be driven by a fake clock in fast unit tests.

/** An opaque timer handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Clock {
  nowMs(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

interface FakeTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly fn: () => void;
}

/** A clock for tests: time stands still until advance(ms), which fires due timers in order. */
export class FakeClock implements Clock {
  private now: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.now + Math.max(0, delayMs), fn };
    this.timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers = this.timers.filter((t) => (t.id as unknown) !== handle);
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing each timer due on the way at its own due time (ties: in creation order). */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.dueMs <= target).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.dueMs;
      due.fn();
    }
    this.now = target;
  }
}
