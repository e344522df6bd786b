/** Stable codes of every error the pool raises. */
export type PoolErrorCode =
  | 'ACQUIRE_TIMEOUT'
  | 'ABORTED'
  | 'QUEUE_FULL'
  | 'POOL_CLOSED'
  | 'NODE_UNKNOWN'
  | 'NODE_UNAVAILABLE'
  | 'CREATE_FAILED'
  | 'LEASE_RELEASED'
  | 'INVALID_OPTIONS'
  | 'PARTITION_UNKNOWN';

/** Every error raised by a pool of this family; switch on `code`, never on the message. */
export class PoolError extends Error {
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoolError';
    this.code = code;
  }
}

export function isPoolError(error: unknown, code?: PoolErrorCode): error is PoolError {
  return error instanceof PoolError && (code === undefined || error.code === code);
}

/** A short, secret-free description of an unknown failure, for stats and health reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
