/**
 * Keeps the process alive while something the user awaits is pending (DESIGN: "Process
 * lifetime"). The pool's own timers are `unref()`ed, and drivers unref idle sessions, so a
 * pending acquire or helper call would otherwise let a plain `node script.mjs` exit with
 * "unsettled top-level await". One timer serves every hold in the process: it is ref'd while at
 * least one hold is open and unref'd (keeping nothing alive) otherwise. It is made once and then
 * only ref'd and unref'd, so a queue that empties and fills on every request costs a counter and
 * a flag, never a timer.
 */
let openHolds = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

// Long enough never to fire in practice; short enough to fit a 32-bit timer.
const KEEP_ALIVE_INTERVAL_MS = 0x3fffffff;

function noop(): void {}

/** Opens one hold without allocating; pair each call with one `releaseHold()`. For the engine's hot path. */
export function openHold(): void {
  if (openHolds++ !== 0) return;
  if (keepAliveTimer === undefined) keepAliveTimer = setInterval(noop, KEEP_ALIVE_INTERVAL_MS);
  else keepAliveTimer.ref();
}

/** Closes one hold opened by `openHold()`. */
export function releaseHold(): void {
  if (openHolds === 0) return;
  if (--openHolds === 0) keepAliveTimer?.unref();
}

/** Opens a hold on the process; call the returned function once when the pending work settles (later calls do nothing). */
export function holdProcess(): () => void {
  openHold();
  let isOpen = true;
  return () => {
    if (!isOpen) return;
    isOpen = false;
    releaseHold();
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
