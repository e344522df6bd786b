import type { PoolOptions } from '@pool/core';

/**
 * Every option name of core's `PoolOptions` a transport pool passes through (all but `factory`
 * and `nodes`, which the transport owns). The `Record` makes the compiler check the list both
 * ways: a name core drops or adds breaks the build here instead of slipping past the check.
 */
const CORE_NAMES: Record<Exclude<keyof PoolOptions<unknown>, 'factory' | 'nodes'>, true> = {
  minIdlePerNode: true, maxPerNode: true, maxTotal: true, maxLeasesPerConnection: true, maxWaiting: true,
  acquireTimeoutMs: true, createTimeoutMs: true, idleTimeoutMs: true, maxLifetimeMs: true, lifetimeJitterMs: true,
  maxUses: true, validateOnAcquire: true, validateOnRelease: true, healthCheckIntervalMs: true, idleOrder: true,
  partitions: true, balancer: true, createRetry: true, circuitBreaker: true, leakDetectionMs: true,
  priorityAgingMs: true, clock: true,
};

/** Core's pool option names (without `factory` and `nodes`). */
export const CORE_POOL_OPTION_NAMES: readonly string[] = Object.keys(CORE_NAMES);
