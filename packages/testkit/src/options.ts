import { isPoolError, type PoolError } from '@pool/core';

/**
 * Calls a pool constructor that must refuse its options, and returns the PoolError
 * INVALID_OPTIONS it threw. Throws when it accepted them (after closing the pool) or threw
 * anything else.
 */
export function invalidOptionsError(createPool: () => { close(): Promise<void> }): PoolError {
  let pool: { close(): Promise<void> };
  try {
    pool = createPool();
  } catch (error) {
    if (isPoolError(error, 'INVALID_OPTIONS')) return error;
    throw new Error(`expected PoolError INVALID_OPTIONS, got ${String(error)}`, { cause: error });
  }
  pool.close().catch(() => undefined);
  throw new Error('expected PoolError INVALID_OPTIONS, but the options were accepted');
}
