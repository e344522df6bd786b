import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool, type ConnectionFactory, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory, type FakeConnection } from '@pool/testkit';

/** A tracking factory that also counts creates per node. */
function countingFactory() {
  const inner = trackingFactory();
  const createsOn = new Map<string, number>();
  const factory: ConnectionFactory<FakeConnection, PoolNode> = {
    create: (node, ctx) => {
      createsOn.set(node.id, (createsOn.get(node.id) ?? 0) + 1);
      return inner.create(node, ctx);
    },
    destroy: inner.destroy,
  };
  return { factory, failing: inner.failingNodes, creates: (id: string) => createsOn.get(id) ?? 0 };
}

const quiet = { healthCheckIntervalMs: 0, idleTimeoutMs: 0, maxLifetimeMs: 0 } as const;

async function outcome(promise: Promise<{ release(): Promise<void> }>): Promise<string> {
  try {
    const lease = await promise;
    await lease.release();
    return 'lease';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('all circuits open (DESIGN: "All circuits open")', () => {
  it('probes one trial at a time, backing off from createRetry.baseDelayMs doubling up to cooldownMs, and serves again at once', async () => {
    const clock = new FakeClock();
    const { factory, failing, creates } = countingFactory();
    failing.add('default');
    const pool = createPool({
      factory, clock, ...quiet,
      createRetry: { attempts: 1, baseDelayMs: 100, maxDelayMs: 100 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000 },
    });
    expect(await outcome(pool.acquire())).toBe('CREATE_FAILED');
    expect(await outcome(pool.acquire())).toBe('CREATE_FAILED');
    expect(pool.stats().nodes.default!.circuit).toBe('open');
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE', message: 'No node can serve: every circuit is open (next trial create in 100 ms)' });

    const trialTimes: number[] = [];
    let openedAt = clock.now();
    for (const waitMs of [100, 200, 400, 800, 1_000, 1_000]) {
      await clock.advance(waitMs - 1);
      const before = creates('default');
      expect(await outcome(pool.acquire())).toBe('NODE_UNAVAILABLE');
      expect(creates('default')).toBe(before);
      await clock.advance(1);
      // Several acquires at the trial's moment: one create, the others wait for it.
      const results = await Promise.all([outcome(pool.acquire()), outcome(pool.acquire()), outcome(pool.acquire())]);
      expect(creates('default')).toBe(before + 1);
      expect(results[0]).toBe('CREATE_FAILED');
      expect(new Set(results.slice(1))).toEqual(new Set(['NODE_UNAVAILABLE']));
      trialTimes.push(clock.now() - openedAt);
      openedAt = clock.now();
    }
    expect(trialTimes).toEqual([100, 200, 400, 800, 1_000, 1_000]);

    failing.clear(); // the backend is back
    await clock.advance(1_000);
    expect(await outcome(pool.acquire())).toBe('lease');
    expect(pool.stats().nodes.default!.circuit).toBe('closed');
    // Closed again: a later outage starts its probing from the base delay again.
    await pool.close();
  });

  it('keeps a dead node among healthy ones out for the whole cooldownMs', async () => {
    const clock = new FakeClock();
    const { factory, failing, creates } = countingFactory();
    failing.add('a');
    const pool = createPool({
      factory, clock, ...quiet, nodes: [{ id: 'a' }, { id: 'b' }], balancer: 'round-robin',
      createRetry: { attempts: 1, baseDelayMs: 100, maxDelayMs: 100 },
      circuitBreaker: { failureThreshold: 1, cooldownMs: 5_000 },
    });
    expect(await outcome(pool.acquire({ node: 'a' }))).toBe('CREATE_FAILED');
    expect(pool.stats().nodes.a!.circuit).toBe('open');
    for (let step = 0; step < 49; step++) {
      await clock.advance(100);
      expect(await outcome(pool.acquire())).toBe('lease');
      expect(await outcome(pool.acquire({ node: 'a' }))).toBe('NODE_UNAVAILABLE');
    }
    expect(creates('a')).toBe(1);
    await clock.advance(100);
    expect(await outcome(pool.acquire({ node: 'a' }))).toBe('CREATE_FAILED'); // the trial, at cooldownMs
    expect(creates('a')).toBe(2);
    await pool.close();
  });

  it('probes every node when all of them are down, and fails over to the first one back', async () => {
    const clock = new FakeClock();
    const { factory, failing, creates } = countingFactory();
    failing.add('a');
    failing.add('b');
    const pool = createPool({
      factory, clock, ...quiet, nodes: [{ id: 'a' }, { id: 'b' }],
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      circuitBreaker: { failureThreshold: 1, cooldownMs: 10_000 },
    });
    await outcome(pool.acquire({ node: 'a' }));
    await outcome(pool.acquire({ node: 'b' }));
    expect(pool.stats().nodes).toMatchObject({ a: { circuit: 'open' }, b: { circuit: 'open' } });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    failing.delete('b');
    await clock.advance(99);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' }); // a base of 0 still waits 100 ms
    await clock.advance(1);
    // Both are due a trial: the acquire tries one, fails over to the other if it must.
    expect(await outcome(pool.acquire())).toBe('lease');
    expect(creates('b')).toBe(2);
    expect(pool.stats().nodes.b!.circuit).toBe('closed');
    await pool.close();
  });

  it('waits min(cooldownMs, max(100, baseDelayMs) * 2^failedTrials) for any breaker settings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 8 }),
        async (baseDelayMs, cooldownMs, trials) => {
          const clock = new FakeClock();
          const { factory, failing, creates } = countingFactory();
          failing.add('default');
          const pool = createPool({
            factory, clock, ...quiet,
            createRetry: { attempts: 1, baseDelayMs, maxDelayMs: baseDelayMs },
            circuitBreaker: { failureThreshold: 1, cooldownMs },
          });
          await outcome(pool.acquire());
          for (let trial = 0; trial < trials; trial++) {
            const waitMs = Math.min(cooldownMs, Math.max(100, baseDelayMs) * 2 ** trial);
            if (waitMs > 1) {
              await clock.advance(waitMs - 1);
              const before = creates('default');
              await outcome(pool.acquire());
              expect(creates('default')).toBe(before);
              await clock.advance(1);
            } else {
              await clock.advance(waitMs);
            }
            const before = creates('default');
            expect(await outcome(pool.acquire())).toBe('CREATE_FAILED');
            expect(creates('default')).toBe(before + 1);
          }
          await pool.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('a pool with no nodes', () => {
  it('rejects acquire at once with NODE_UNAVAILABLE saying so, and serves after addNode', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), nodes: [], clock });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE', message: expect.stringContaining('The pool has no nodes') });
    await expect(pool.use(() => 1)).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    expect(pool.tryAcquire()).toBeUndefined();
    expect(pool.stats()).toMatchObject({ waiting: 0, timeouts: 0 });
    pool.addNode({ id: 'a' });
    expect(await outcome(pool.acquire())).toBe('lease');
    await pool.close();
  });

  it('fails the waiters left when the last node is removed', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: [{ id: 'a' }], maxPerNode: 1, clock: new FakeClock() });
    const lease = await pool.acquire();
    const waiting = pool.acquire();
    waiting.catch(() => undefined);
    const removed = pool.removeNode('a');
    await flushPromises();
    await expect(waiting).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE', message: expect.stringContaining('The pool has no nodes') });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE', message: expect.stringContaining('The pool has no nodes') });
    await lease.release().catch(() => undefined);
    await removed;
    await pool.close();
  });
});
