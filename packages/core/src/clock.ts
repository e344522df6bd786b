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

// Reading the system time costs as much as a whole acquire on some machines, and the pool reads
// it on every acquire and release. The default clock reuses a reading for up to READS_PER_SAMPLE
// reads and at most until a 1 ms unref()ed timer fires, so timestamps are at most ~1 ms stale
// under load, and exact after any pause.
const READS_PER_SAMPLE = 64;
let sampledNow = 0;
let readsLeft = 0;
let expiry: ReturnType<typeof setTimeout> | undefined;

function expireSample(): void {
  expiry = undefined;
  readsLeft = 0;
}

function coarseNow(): number {
  if (readsLeft > 0) {
    readsLeft--;
    return sampledNow;
  }
  sampledNow = Date.now();
  readsLeft = READS_PER_SAMPLE - 1;
  if (expiry === undefined) {
    expiry = setTimeout(expireSample, 1);
    expiry.unref();
  }
  return sampledNow;
}

/** The default clock: wall time with at most ~1 ms of staleness, and real timers. */
export const systemClock: Clock = {
  now: coarseNow,
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export function setUnrefTimeout(clock: Clock, callback: () => void, ms: number): ClockTimer {
  const timer = clock.setTimeout(callback, ms);
  timer.unref?.();
  return timer;
}
