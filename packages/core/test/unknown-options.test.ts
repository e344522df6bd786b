import { describe, expect, it } from 'vitest';
import { createPool, POOL_OPTION_NAMES, type PoolOptions } from '@pool/core';
import { invalidOptionsError, trackingFactory } from '@pool/testkit';

type AnyOptions = Record<string, unknown>;

function refused(options: AnyOptions): string {
  return invalidOptionsError(() => createPool({ factory: trackingFactory(), ...options } as PoolOptions<unknown>)).message;
}

describe('unknown option names', () => {
  it.each<[AnyOptions, string]>([
    [{ maxPerNod: 1 }, 'Unknown option maxPerNod (did you mean maxPerNode?)'],
    [{ acquireTimeout: 5 }, 'Unknown option acquireTimeout (did you mean acquireTimeoutMs?)'],
    [{ colour: 'red' }, 'Unknown option colour'],
    [{ createRetry: { attempts: 2, baseDelayMs: 1, maxDelay: 5 } }, 'Unknown option createRetry.maxDelay (did you mean createRetry.maxDelayMs?)'],
    [{ circuitBreaker: { failureTreshold: 2, cooldownMs: 5 } }, 'Unknown option circuitBreaker.failureTreshold (did you mean circuitBreaker.failureThreshold?)'],
    [{ partitions: { batch: { max: 2, priorty: 1 } } }, 'Unknown option partitions.batch.priorty (did you mean partitions.batch.priority?)'],
    [{ validateOnAcquire: { idleFor: 5 } }, 'Unknown option validateOnAcquire.idleFor (did you mean validateOnAcquire.idleForMs?)'],
  ])('refuses %j', (options, message) => {
    expect(refused(options)).toBe(message);
  });

  it('accepts every documented name, name among them (a non-empty string, default "pool")', async () => {
    const pool = createPool({
      factory: trackingFactory(),
      name: 'orders',
      nodes: [{ id: 'a' }],
      minIdlePerNode: 0,
      maxPerNode: 2,
      maxTotal: 4,
      maxLeasesPerConnection: 1,
      maxWaiting: 10,
      acquireTimeoutMs: 100,
      createTimeoutMs: 100,
      idleTimeoutMs: 0,
      maxLifetimeMs: 0,
      lifetimeJitterMs: 0,
      maxUses: 5,
      validateOnAcquire: { idleForMs: 1 },
      validateOnRelease: false,
      healthCheckIntervalMs: 0,
      idleOrder: 'fifo',
      partitions: { batch: { max: 1, priority: 1 } },
      balancer: 'round-robin',
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      circuitBreaker: { failureThreshold: 1, cooldownMs: 1 },
      leakDetectionMs: 0,
      priorityAgingMs: 10,
    });
    await pool.close();
    expect(refused({ name: '' })).toMatch(/Invalid option name: got "", must be a non-empty string/);
    expect(refused({ name: 7 })).toMatch(/Invalid option name: got 7/);
  });

  it('exports the top-level names for transports, frozen', () => {
    expect(POOL_OPTION_NAMES).toContain('maxPerNode');
    expect(POOL_OPTION_NAMES).toContain('name');
    expect(POOL_OPTION_NAMES).toContain('adaptiveLimit');
    expect(Object.isFrozen(POOL_OPTION_NAMES)).toBe(true);
  });
});
