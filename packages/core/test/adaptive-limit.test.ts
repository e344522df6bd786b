import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, isPoolError, type LimitChange, type Lease, type Pool, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises, invalidOptionsError, trackingFactory, type FakeConnection } from '@pool/testkit';

const pools: Pool<FakeConnection, PoolNode>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function pool(options: Partial<Parameters<typeof createPool<FakeConnection, PoolNode>>[0]> = {}): Pool<FakeConnection, PoolNode> {
  const created = createPool<FakeConnection, PoolNode>({ factory: trackingFactory(), clock: new FakeClock(), ...options });
  pools.push(created);
  return created;
}

describe('adaptiveLimit in the pool', () => {
  it('grants a node no more leases than its limit, and a drop lowers it (limitChange, stats)', async () => {
    const changes: LimitChange[] = [];
    const p = pool({ maxPerNode: 10, adaptiveLimit: { algorithm: 'aimd', initial: 2 } });
    p.on('limitChange', (change) => changes.push(change));
    expect(p.stats().nodes['default']?.limit).toBe(2);
    const first = await p.acquire();
    const second = await p.acquire();
    let third: Lease<FakeConnection, PoolNode> | undefined;
    void p.acquire().then((lease) => (third = lease));
    await flushPromises();
    expect(third).toBeUndefined();
    expect(p.stats().waiting).toBe(1);

    await first.release({ latencyMs: 3, dropped: true });
    await flushPromises();
    expect(changes).toEqual([{ node: 'default', limit: 1, previous: 2 }]);
    expect(p.stats().nodes['default']?.limit).toBe(1);
    expect(third).toBeUndefined(); // one lease out, limit 1

    await second.release({ latencyMs: 3 });
    await flushPromises();
    expect(third).toBeDefined();
    expect(p.stats().nodes['default']?.total).toBeLessThanOrEqual(2); // no connection created past the limit
    await third?.release();
  });

  it('sends unnamed acquires to another node while one is at its limit', async () => {
    const p = pool({ nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 8, adaptiveLimit: { algorithm: 'aimd', initial: 1, max: 8 } });
    const leases = [await p.acquire(), await p.acquire()];
    expect(leases.map((lease) => lease.node.id).sort()).toEqual(['a', 'b']);
    const named = p.acquire({ node: 'a', timeoutMs: 50 });
    await flushPromises();
    expect(p.stats().nodes['a']?.waiting).toBe(1);
    await leases.find((lease) => lease.node.id === 'a')?.release();
    const lease = await named;
    expect(lease.node.id).toBe('a');
    await lease.release();
    await leases.find((l) => l.node.id === 'b')?.release();
  });

  it('refuses bad adaptiveLimit options and bad release outcomes, naming them', async () => {
    expect(invalidOptionsError(() => pool({ adaptiveLimit: { algoritm: 'aimd' } as never })).message).toMatch(/adaptiveLimit\.algoritm \(did you mean adaptiveLimit\.algorithm\?\)/);
    expect(invalidOptionsError(() => pool({ maxPerNode: 4, adaptiveLimit: { max: 5 } })).message).toMatch(/adaptiveLimit\.max: got 5/);
    expect(invalidOptionsError(() => pool({ adaptiveLimit: 'on' as never })).message).toMatch(/Invalid option adaptiveLimit/);
    const p = pool({ adaptiveLimit: {} });
    const lease = await p.acquire();
    const error = await lease.release({ latencyMs: -1 }).catch((e: unknown) => e);
    expect(isPoolError(error, 'INVALID_OPTIONS') && error.message).toMatch(/release\.latencyMs: got -1/);
    const unknown = await lease.release({ latency: 3 } as never).catch((e: unknown) => e);
    expect(isPoolError(unknown, 'INVALID_OPTIONS') && unknown.message).toMatch(/release\.latency \(did you mean release\.latencyMs\?\)/);
    expect(p.stats().leases).toBe(1); // refused before the lease ended
    await lease.release({ latencyMs: 1 });
    expect(p.stats().leases).toBe(0);
  });

  it('is off by default: the limit is the static cap and outcomes are accepted', async () => {
    const p = pool({ maxPerNode: 3, maxLeasesPerConnection: 2 });
    expect(p.stats().nodes['default']?.limit).toBe(6);
    const lease = await p.acquire();
    await lease.release({ latencyMs: 5, dropped: true });
    expect(p.stats().nodes['default']?.limit).toBe(6);
  });

  it('keeps leases within each node\'s limit and every limit within [min, max] under random schedules', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('gradient2', 'aimd', 'vegas'),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(fc.record({ release: fc.boolean(), latencyMs: fc.integer({ min: 0, max: 200 }), dropped: fc.boolean(), pick: fc.nat() }), { minLength: 20, maxLength: 80 }),
        async (algorithm, min, validates, steps) => {
          const clock = new FakeClock();
          const p = createPool<FakeConnection, PoolNode>({
            // Validating on every reuse puts an asynchronous step between finding a connection and granting it.
            factory: trackingFactory({ withValidate: validates }), validateOnAcquire: validates, clock, nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 6,
            adaptiveLimit: { algorithm, min, max: 6, initial: Math.max(min, 3) },
          });
          const held: Lease<FakeConnection, PoolNode>[] = [];
          let violation: string | undefined;
          p.on('acquire', ({ node }) => {
            const stats = p.stats().nodes[node];
            if (stats !== undefined && stats.leases > stats.limit) violation ??= `${node}: ${stats.leases} leases over limit ${stats.limit}`;
          });
          p.on('limitChange', ({ limit }) => {
            if (limit < min || limit > 6 || !Number.isInteger(limit)) violation ??= `limit ${limit} outside [${min}, 6]`;
          });
          for (const step of steps) {
            if (step.release && held.length > 0) {
              const [lease] = held.splice(step.pick % held.length, 1);
              await lease?.release({ latencyMs: step.latencyMs, dropped: step.dropped });
            } else {
              void p.acquire({ timeoutMs: 1_000 }).then((lease) => held.push(lease), () => undefined);
            }
            await clock.advance(1);
            for (const [id, node] of Object.entries(p.stats().nodes)) {
              if (node.total > 6) violation ??= `${id}: ${node.total} connections over maxPerNode`;
            }
          }
          for (const lease of held.splice(0)) await lease.release();
          await p.close();
          return violation === undefined || (console.error(violation), false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
