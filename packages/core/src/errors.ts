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

/**
 * The brand every PoolError carries, shared by every copy of @pool/core loaded in the process
 * (`Symbol.for` is process-wide): two transports may bring two copies under `^0.x` ranges, and
 * `instanceof` against one copy's class would miss the other's errors.
 */
const POOL_ERROR_BRAND: unique symbol = Symbol.for('@pool/core.PoolError') as never;

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

/** Every error raised by a pool of this family; switch on `code`, never on the message. */
export class PoolError extends Error {
  readonly code: PoolErrorCode;
  declare readonly [POOL_ERROR_BRAND]: true;

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoolError';
    this.code = code;
  }

  /**
   * `error instanceof PoolError` is true for a PoolError of any copy of @pool/core in the
   * process (it tests the brand); a subclass keeps the ordinary prototype test.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== PoolError) return ordinaryHasInstance.call(this, value);
    return isBranded(value);
  }
}

Object.defineProperty(PoolError.prototype, POOL_ERROR_BRAND, { value: true });

function isBranded(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { [POOL_ERROR_BRAND]?: unknown })[POOL_ERROR_BRAND] === true;
}

/** True for a PoolError of any copy of @pool/core, with the given `code` when one is named. */
export function isPoolError(error: unknown, code?: PoolErrorCode): error is PoolError {
  return isBranded(error) && (code === undefined || (error as PoolError).code === code);
}

/** A short, secret-free description of an unknown failure, for stats and health reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
