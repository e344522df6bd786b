/**
 * Keeps the process alive while something the user awaits is pending (DESIGN: "Process
 * lifetime"). The pool's own timers are `unref()`ed, and drivers unref idle sessions, so a
 * pending acquire or helper call would otherwise let a plain `node script.mjs` exit with
 * "unsettled top-level await". One ref'd timer serves every hold in the process: the count goes
 * up and down on the hot path, and the timer exists only while at least one hold is open.
 */
let openHolds = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

// Long enough never to fire in practice; short enough to fit a 32-bit timer.
const KEEP_ALIVE_INTERVAL_MS = 0x3fffffff;

function noop(): void {}

/** Opens a hold on the process; call the returned function once when the pending work settles. */
export function holdProcess(): () => void {
  if (openHolds++ === 0) keepAliveTimer = setInterval(noop, KEEP_ALIVE_INTERVAL_MS);
  let isOpen = true;
  return () => {
    if (!isOpen) return;
    isOpen = false;
    if (--openHolds === 0 && keepAliveTimer !== undefined) {
      clearInterval(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  };
}

/** Holds the process until `promise` settles; returns the same promise. */
export function holdWhile<T>(promise: Promise<T>): Promise<T> {
  const release = holdProcess();
  promise.then(release, release);
  return promise;
}

/** How many holds are open now (for tests and diagnostics). */
export function openProcessHolds(): number {
  return openHolds;
}
