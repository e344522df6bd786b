import type { PoolOptions } from './options.js';

type PoolOptionName = keyof PoolOptions<unknown>;

const NAMES = [
  'factory', 'nodes', 'name', 'minIdlePerNode', 'maxPerNode', 'maxTotal', 'maxLeasesPerConnection', 'maxWaiting',
  'acquireTimeoutMs', 'createTimeoutMs', 'idleTimeoutMs', 'maxLifetimeMs', 'lifetimeJitterMs', 'maxUses',
  'validateOnAcquire', 'validateOnRelease', 'healthCheckIntervalMs', 'idleOrder', 'partitions', 'balancer',
  'createRetry', 'circuitBreaker', 'leakDetectionMs', 'priorityAgingMs', 'clock', 'adaptiveLimit', 'permits',
] as const satisfies readonly PoolOptionName[];

/**
 * Every option name `createPool` knows at the top level. Transports that pass core options
 * through build their own known set from it (`[...POOL_OPTION_NAMES, ...theirs]`), so a
 * misspelled name is refused with the nearest name of either.
 */
export const POOL_OPTION_NAMES: readonly PoolOptionName[] = Object.freeze(NAMES);

// Fails to compile when PoolOptions gains a name this list lacks.
type Missing = Exclude<PoolOptionName, (typeof NAMES)[number]>;
const everyNameListed: [Missing] extends [never] ? true : Missing = true;
void everyNameListed;

/** Known names of the nested option objects, by option. */
export const NESTED_OPTION_NAMES = {
  createRetry: ['attempts', 'baseDelayMs', 'maxDelayMs'],
  circuitBreaker: ['failureThreshold', 'cooldownMs'],
  partition: ['max', 'priority'],
  validateOnAcquire: ['idleForMs'],
} as const;

/** Top-level names as a Set, for the check at createPool. */
export const POOL_OPTION_NAME_SET: ReadonlySet<string> = new Set(POOL_OPTION_NAMES);
