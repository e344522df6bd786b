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

/** The longest delay a Node timer takes; past it Node warns and fires after 1 ms instead. */
export const MAX_TIMER_MS = 0x7fffffff;

/** A timer of `clock` that keeps nothing alive; delays past MAX_TIMER_MS are clamped to it (callers that need longer re-arm). */
export function setUnrefTimeout(clock: Clock, callback: () => void, ms: number): ClockTimer {
  const timer = clock.setTimeout(callback, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms);
  timer.unref?.();
  return timer;
}
