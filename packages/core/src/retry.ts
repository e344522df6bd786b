import type { CreateRetryOptions } from './options.js';

/**
 * How long a failed create waits before its next try, ms: full-jitter exponential backoff, a
 * uniform draw below `baseDelayMs * 2^(attempt - 1)` capped at `maxDelayMs` (`attempt` counts
 * from 1, the try that just failed). Random so that a pool of many waiters, or many pools, do
 * not retry a recovering backend in lockstep.
 */
export function retryDelayMs(retry: CreateRetryOptions, attempt: number): number {
  return Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}
