import type { Clock, ClockTimer } from '@pool/core';

interface FakeTimer extends ClockTimer {
  at: number;
  sequence: number;
  callback: () => void;
  isCleared: boolean;
}

/** A clock whose time moves only when the test says so. Timers fire in time order during `advance`. */
export class FakeClock implements Clock {
  private current: number;
  private sequence = 0;
  private timers: FakeTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now = (): number => this.current;

  setTimeout = (callback: () => void, ms: number): ClockTimer => {
    const timer: FakeTimer = { at: this.current + Math.max(0, ms), sequence: this.sequence++, callback, isCleared: false, unref: () => timer };
    this.timers.push(timer);
    return timer;
  };

  clearTimeout = (timer: ClockTimer): void => {
    (timer as FakeTimer).isCleared = true;
    this.timers = this.timers.filter((candidate) => candidate !== timer);
  };

  /** Timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushPromises();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers = this.timers.filter((candidate) => candidate !== next);
      this.current = Math.max(this.current, next.at);
      next.callback();
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }

  private nextDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const timer of this.timers) {
      if (timer.at <= target && (!best || timer.at < best.at || (timer.at === best.at && timer.sequence < best.sequence))) best = timer;
    }
    return best;
  }
}

/** Lets every pending promise chain run: a few macrotask turns. */
export async function flushPromises(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
