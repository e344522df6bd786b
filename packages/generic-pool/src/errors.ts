import { PoolError, isPoolError } from '@pool/core';

/** generic-pool's messages, which code in the wild matches on: kept word for word. */
export const MESSAGES = {
  acquireTimeout: 'ResourceRequest timed out',
  destroyTimeout: 'destroy timed out',
  notInPool: 'Resource not currently part of this pool',
  queueFull: 'max waitingClients count exceeded',
  draining: 'pool is draining and cannot accept work',
  createFailed: 'Failed to create resource',
} as const;

/**
 * An acquire waited `acquireTimeoutMillis` in vain. Named `TimeoutError` like generic-pool's, and a
 * `PoolError` with code `ACQUIRE_TIMEOUT` like the rest of the family; `cause` is core's error,
 * whose message says what was full.
 */
export class TimeoutError extends PoolError {
  constructor(message: string = MESSAGES.acquireTimeout, options?: { cause?: unknown }) {
    super('ACQUIRE_TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

/**
 * An acquire whose creates all failed (`maxTries` of them, or the circuit opened). The name and
 * message are those of the `maxTries` change generic-pool users asked for (node-pool #183/#184);
 * `cause` is the factory's own error, and its message is appended.
 */
export class ResourceCreationError extends PoolError {
  constructor(cause: unknown) {
    super('CREATE_FAILED', `${MESSAGES.createFailed}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ResourceCreationError';
  }
}

export function notInPool(): PoolError {
  return new PoolError('LEASE_RELEASED', MESSAGES.notInPool);
}

export function queueFull(): PoolError {
  return new PoolError('QUEUE_FULL', MESSAGES.queueFull);
}

export function draining(): PoolError {
  return new PoolError('POOL_CLOSED', MESSAGES.draining);
}

/**
 * What a failed acquire rejects with, in generic-pool's terms: its TimeoutError for a timeout,
 * ResourceCreationError (cause: the factory's error) when creating failed or a circuit opened by
 * failed creates, the draining error for a pool closed under a waiter; anything else as core raised it.
 */
export function acquireError(error: unknown, lastCreateError: unknown): unknown {
  if (!isPoolError(error)) return error;
  switch (error.code) {
    case 'ACQUIRE_TIMEOUT':
      return new TimeoutError(MESSAGES.acquireTimeout, { cause: error });
    case 'CREATE_FAILED':
      return new ResourceCreationError(error.cause);
    case 'NODE_UNAVAILABLE': {
      const cause = error.cause ?? lastCreateError;
      return cause === undefined ? error : new ResourceCreationError(cause);
    }
    case 'POOL_CLOSED':
      return draining();
    default:
      return error;
  }
}
