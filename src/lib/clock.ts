/** An injectable clock, so timed behaviour is testable without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => (ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms))),
};

/** A manual clock for tests: time moves only when `advance` is called. */
export class FakeClock implements Clock {
  private t: number;
  private waiters: { at: number; resolve: () => void }[] = [];
  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ at: this.t + ms, resolve }));
  }
  /** When the earliest sleeper wakes, or undefined when nobody sleeps. */
  nextDue(): number | undefined {
    return this.waiters.reduce<number | undefined>((min, w) => (min === undefined || w.at < min ? w.at : min), undefined);
  }

  /** Moves time forward, waking every sleeper whose time has come, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.waiters.sort((a, b) => a.at - b.at);
      const next = this.waiters[0];
      if (!next || next.at > target) break;
      this.waiters.shift();
      this.t = next.at;
      next.resolve();
      await new Promise((r) => setImmediate(r));
    }
    this.t = target;
  }
}
