import { describe, expect, it } from 'vitest';
import { createPool, PoolError, type PoolOptions } from '@pool/core';
import { trackingFactory } from '@pool/testkit';

type AnyOptions = Record<string, unknown>;

const cases: [string, AnyOptions, RegExp][] = [
  ['maxPerNode', { maxPerNode: 0 }, /maxPerNode: got 0, must be an integer >= 1/],
  ['maxPerNode', { maxPerNode: 1.5 }, /maxPerNode: got 1.5/],
  ['maxTotal', { maxTotal: -1 }, /maxTotal: got -1/],
  ['minIdlePerNode', { minIdlePerNode: 20, maxPerNode: 10 }, /minIdlePerNode: got 20, must be <= maxPerNode \(10\)/],
  ['maxLeasesPerConnection', { maxLeasesPerConnection: 0 }, /maxLeasesPerConnection/],
  ['maxWaiting', { maxWaiting: 'ten' }, /maxWaiting: got "ten"/],
  ['acquireTimeoutMs', { acquireTimeoutMs: 0 }, /acquireTimeoutMs: got 0, must be a number >= 1/],
  ['acquireTimeoutMs', { acquireTimeoutMs: Number.NaN }, /acquireTimeoutMs/],
  ['createTimeoutMs', { createTimeoutMs: -5 }, /createTimeoutMs/],
  ['idleTimeoutMs', { idleTimeoutMs: -1 }, /idleTimeoutMs/],
  ['maxLifetimeMs', { maxLifetimeMs: Infinity }, /maxLifetimeMs: got null, must be a number >= 0, finite|maxLifetimeMs/],
  ['lifetimeJitterMs', { maxLifetimeMs: 1000, lifetimeJitterMs: 1000 }, /lifetimeJitterMs: got 1000, must be < maxLifetimeMs \(1000\)/],
  ['maxUses', { maxUses: 0 }, /maxUses/],
  ['validateOnAcquire', { validateOnAcquire: 'yes' }, /validateOnAcquire: got "yes"/],
  ['validateOnAcquire.idleForMs', { validateOnAcquire: { idleForMs: -1 } }, /validateOnAcquire.idleForMs/],
  ['validateOnRelease', { validateOnRelease: 1 }, /validateOnRelease: got 1, must be true or false/],
  ['healthCheckIntervalMs', { healthCheckIntervalMs: -1 }, /healthCheckIntervalMs/],
  ['idleOrder', { idleOrder: 'random' }, /idleOrder: got "random", must be one of lifo, fifo/],
  ['partitions', { partitions: [] }, /partitions/],
  ['partitions.x.max', { partitions: { x: { max: 0 } } }, /partitions.x.max: got 0/],
  ['balancer', { balancer: 'fastest' }, /balancer: got "fastest", must be one of round-robin, least-connections, p2c, random or a function/],
  ['createRetry.attempts', { createRetry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 } }, /createRetry.attempts/],
  ['createRetry.maxDelayMs', { createRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 1 } }, /createRetry.maxDelayMs: got 1, must be >= createRetry.baseDelayMs \(10\)/],
  ['circuitBreaker', { circuitBreaker: true }, /circuitBreaker: got true/],
  ['circuitBreaker.failureThreshold', { circuitBreaker: { failureThreshold: 0, cooldownMs: 1 } }, /circuitBreaker.failureThreshold/],
  ['leakDetectionMs', { leakDetectionMs: -1 }, /leakDetectionMs/],
  ['priorityAgingMs', { priorityAgingMs: 0 }, /priorityAgingMs/],
  ['clock', { clock: { now: () => 1 } }, /clock: got .*must have now\(\), setTimeout\(\) and clearTimeout\(\)/],
  ['nodes', { nodes: 'db1' }, /nodes: got "db1"/],
  ['nodes[0].id', { nodes: [{ id: '' }] }, /nodes\[0\].id: got "", must be a non-empty string/],
  ['nodes[1].id', { nodes: [{ id: 'a' }, { id: 'a' }] }, /nodes\[1\].id: got "a", must be unique/],
  ['nodes[0].weight', { nodes: [{ id: 'a', weight: -1 }] }, /nodes\[0\].weight/],
];

describe('options validation', () => {
  it.each(cases)('rejects a bad %s with INVALID_OPTIONS naming it', (_option, options, message) => {
    let caught: unknown;
    try {
      createPool({ factory: trackingFactory(), ...options } as unknown as PoolOptions<unknown>);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PoolError);
    expect(caught).toMatchObject({ code: 'INVALID_OPTIONS' });
    expect((caught as Error).message).toMatch(message);
  });

  it('rejects a factory without create or destroy', () => {
    expect(() => createPool({ factory: { create: async () => 1 } } as unknown as PoolOptions<number>)).toThrow(/factory.destroy: got undefined, must be a function/);
    expect(() => createPool({} as unknown as PoolOptions<number>)).toThrow(/factory: got undefined/);
  });

  it('accepts the defaults and documents them through stats', async () => {
    const pool = createPool({ factory: trackingFactory() });
    expect(pool.nodes).toEqual([{ id: 'default' }]);
    expect(pool.stats()).toMatchObject({ total: 0, nodes: { default: { circuit: 'closed', healthy: true } }, partitions: {} });
    await pool.drain();
  });
});
