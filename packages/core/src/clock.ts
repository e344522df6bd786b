/** A timer handle of a {@link Clock}. */
export interface ClockTimer {
  unref?(): unknown;
}

/**
 * The pool's only source of time. Inject a fake one in tests to drive timeouts, lifetimes and
 * maintenance without real sleeps. Timers set through it are `unref()`ed by the pool where
 * the handle supports it, so they never keep the process alive.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** The default clock: Date.now and real timers. */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export function setUnrefTimeout(clock: Clock, callback: () => void, ms: number): ClockTimer {
  const timer = clock.setTimeout(callback, ms);
  timer.unref?.();
  return timer;
}
