import { isPoolError, PoolError } from '@pool/core';

export const USE_AFTER_END = 'Cannot use a pool after calling end on the pool';
export const DOUBLE_RELEASE = 'Release called on client which has already been released to the pool.';
export const DOUBLE_END = 'Called end on pool more than once';
export const FUNCTION_AS_QUERY = 'Passing a function as the first parameter to pool.query is not supported';

/** pg-pool's words for a connect that ran out of time, matched by code in the wild. */
const TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

/**
 * A failed checkout as pg-pool reports it. Timeouts stay `PoolError` `ACQUIRE_TIMEOUT` but read as
 * pg-pool's; a failed connect (or `onConnect` hook) is the driver's (or hook's) own error, as pg-pool
 * passes it; a checkout cut short by `end()` reads as pg-pool's use-after-end error.
 */
export function checkoutError(error: unknown, connectionTimeoutMs: number): unknown {
  if (isPoolError(error, 'ACQUIRE_TIMEOUT')) {
    return new PoolError('ACQUIRE_TIMEOUT', `${TIMEOUT_MESSAGE} (waited ${connectionTimeoutMs} ms: connectionTimeoutMillis)`, {
      cause: error,
    });
  }
  if (isPoolError(error, 'CREATE_FAILED')) {
    const cause = error.cause;
    if (cause instanceof Error && /^create timed out after/.test(cause.message)) {
      return new PoolError(
        'ACQUIRE_TIMEOUT',
        `${TIMEOUT_MESSAGE}: Connection terminated due to connection timeout (${connectionTimeoutMs} ms: connectionTimeoutMillis)`,
        { cause },
      );
    }
    return cause ?? error;
  }
  if (isPoolError(error, 'POOL_CLOSED')) return new Error(USE_AFTER_END, { cause: error });
  return error;
}
