import type pg from 'pg';

/** A checked-out client: pg's Client with pg-pool's `release(err?)`. */
export type PoolClientWithRelease = pg.Client & { release?: (error?: Error | boolean) => void };
/** What a checkout calls back with: an error, or a client. */
export type Checkout = (error: unknown, client: PoolClientWithRelease | undefined) => void;
export type Callback = (...args: never[]) => void;

/** Throws `error` as an uncaught exception, outside any promise chain (as a pg-pool callback would). */
export function throwUncaught(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

/** {@link callOutside} for a checkout's callback, without a rest array on the hot path. */
export function callCheckout(done: Checkout, error: unknown, client: PoolClientWithRelease | undefined): void {
  try {
    done(error, client);
  } catch (thrown) {
    throwUncaught(thrown);
  }
}

/** Calls a user callback from a promise continuation so that its throw is uncaught, not a rejection. */
export function callOutside(callback: Callback, ...args: unknown[]): void {
  try {
    (callback as (...values: unknown[]) => void)(...args);
  } catch (error) {
    throwUncaught(error);
  }
}
