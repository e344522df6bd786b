import { type Clock, type ClockTimer, setUnrefTimeout } from './clock.js';

/** Aborts `controller` after `ms` (none when Infinity) with an error that says what timed out. */
export function abortAfter(clock: Clock, controller: AbortController, ms: number, what: string): ClockTimer | undefined {
  if (ms === Infinity) return undefined;
  return setUnrefTimeout(clock, () => controller.abort(new Error(`${what} timed out after ${ms} ms`)), ms);
}

/**
 * Settles with the promise, or rejects with the signal's reason once it aborts, whichever is
 * first, so a factory that ignores its signal cannot hang the pool. A value that arrives after
 * the abort goes to `onLate` for disposal.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    promise.then(onLate, () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let isDone = false;
    const onAbort = (): void => {
      isDone = true;
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (isDone) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!isDone) reject(error);
      },
    );
  });
}
