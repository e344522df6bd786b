import { describe, expect, it } from 'vitest';
import { createPool, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory } from '@pool/testkit';

const threeNodes = (): PoolNode[] => [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
const noRetry = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

describe('nodes', () => {
  it('bounds connections per node and in total', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: threeNodes(), maxPerNode: 2, maxTotal: 5, balancer: 'round-robin' });
    const leases = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
    const stats = pool.stats();
    expect(stats.total).toBe(5);
    for (const node of Object.values(stats.nodes)) expect(node.total).toBeLessThanOrEqual(2);
    const sixth = pool.acquire();
    await flushPromises();
    expect(pool.stats()).toMatchObject({ total: 5, waiting: 1 });
    await leases[0]!.release();
    const lease = await sixth;
    await Promise.all([lease, ...leases.slice(1)].map((held) => held.release()));
    await pool.drain();
  });

  it('at maxTotal, closes an idle connection of another node to serve a waiter that named a full node', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 2, maxTotal: 2 });
    const [a1, a2] = await Promise.all([pool.acquire({ node: 'a' }), pool.acquire({ node: 'a' })]);
    await a1!.release();
    const onB = await pool.acquire({ node: 'b' });
    expect(onB.node.id).toBe('b');
    expect(pool.stats().nodes).toMatchObject({ a: { total: 1 }, b: { total: 1 } });
    await onB.release();
    await a2!.release();
    await pool.drain();
  });

  it('serves a named node only from that node', async () => {
    const factory = trackingFactory();
    factory.failingNodes.add('b');
    const pool = createPool({ factory, nodes: threeNodes(), createRetry: noRetry });
    await expect(pool.acquire({ node: 'b' })).rejects.toMatchObject({ code: 'CREATE_FAILED' });
    const lease = await pool.acquire({ node: 'c' });
    expect(lease.node.id).toBe('c');
    await lease.release();
    await pool.drain();
  });

  it('fails over an unnamed acquire to another node when its create fails', async () => {
    const factory = trackingFactory();
    factory.failingNodes.add('a');
    factory.failingNodes.add('b');
    const pool = createPool({ factory, nodes: threeNodes(), createRetry: noRetry, balancer: 'round-robin' });
    const lease = await pool.acquire();
    expect(lease.node.id).toBe('c');
    await lease.release();
    await pool.drain();
  });

  it('gives CREATE_FAILED with the factory error as cause when every node fails', async () => {
    const factory = trackingFactory();
    for (const node of ['a', 'b', 'c']) factory.failingNodes.add(node);
    const pool = createPool({ factory, nodes: threeNodes(), createRetry: noRetry });
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CREATE_FAILED' });
    expect((error as Error & { cause: Error }).cause.message).toMatch(/ECONNREFUSED/);
    await pool.drain();
  });

  it('retries a failed create with backoff, but never past the waiter timeout', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    factory.failingNodes.add('default');
    const pool = createPool({ factory, clock, acquireTimeoutMs: 1_000, createRetry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 400 }, circuitBreaker: false });
    const errors: number[] = [];
    pool.on('createError', (event) => errors.push(event.attempt));
    const acquiring = pool.acquire().catch((error: unknown) => error);
    await flushPromises();
    expect(factory.createCalls).toBe(1);
    await clock.advance(100);
    expect(factory.createCalls).toBeGreaterThanOrEqual(2);
    factory.failingNodes.clear();
    await clock.advance(400);
    const lease = await acquiring;
    expect(lease).toHaveProperty('connection');
    expect(errors[0]).toBe(1);
    await (lease as { release(): Promise<void> }).release();

    factory.failingNodes.add('default');
    const [held] = await Promise.all([pool.acquire()]);
    void held;
    const again = pool.acquire({ timeoutMs: 150 }).catch((error: unknown) => error);
    await clock.advance(1_000);
    const error = await again;
    expect(['CREATE_FAILED', 'ACQUIRE_TIMEOUT']).toContain((error as { code: string }).code);
    await held!.release();
    await pool.close();
  });

  it('opens a circuit after failureThreshold consecutive failures, skips the node, and closes after a good trial', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    factory.failingNodes.add('a');
    const pool = createPool({
      factory, clock, nodes: [{ id: 'a' }, { id: 'b' }], createRetry: noRetry,
      circuitBreaker: { failureThreshold: 3, cooldownMs: 5_000 }, balancer: 'round-robin',
    });
    const events: string[] = [];
    pool.on('circuitOpen', (event) => events.push(`open ${event.node}`));
    pool.on('circuitClose', (event) => events.push(`close ${event.node}`));
    for (let i = 0; i < 3; i++) await pool.acquire({ node: 'a' }).catch(() => undefined);
    expect(events).toEqual(['open a']);
    expect(pool.stats().nodes.a).toMatchObject({ circuit: 'open', healthy: false });
    await expect(pool.acquire({ node: 'a' })).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    const callsBefore = factory.createCalls;
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(leases.map((lease) => lease.node.id)).toEqual(['b', 'b', 'b']);
    expect(factory.createCalls - callsBefore).toBe(3);
    await Promise.all(leases.map((lease) => lease.release()));

    await clock.advance(5_000);
    expect(pool.stats().nodes.a!.circuit).toBe('half-open');
    // a failing trial opens it again
    await pool.acquire({ node: 'a' }).catch(() => undefined);
    expect(pool.stats().nodes.a!.circuit).toBe('open');
    await clock.advance(5_000);
    factory.failingNodes.clear();
    const trial = await pool.acquire({ node: 'a' });
    expect(events).toEqual(['open a', 'open a', 'close a']);
    expect(pool.stats().nodes.a!.circuit).toBe('closed');
    await trial.release();
    await pool.drain();
  });

  it('fails queued waiters fast with NODE_UNAVAILABLE once the only node opens its circuit', async () => {
    const factory = trackingFactory();
    factory.failingNodes.add('default');
    const pool = createPool({ factory, maxPerNode: 1, createRetry: noRetry, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const results = await Promise.all(Array.from({ length: 5 }, () => pool.acquire().then(() => 'lease', (error: { code: string }) => error.code)));
    expect(results.slice(0, 2)).toEqual(['CREATE_FAILED', 'CREATE_FAILED']);
    expect(new Set(results.slice(2))).toEqual(new Set(['NODE_UNAVAILABLE']));
    expect(pool.stats()).toMatchObject({ waiting: 0, total: 0 });
    await pool.drain();
  });

  it('adds and removes nodes at run time', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory, nodes: [{ id: 'a' }] });
    const added: string[] = [];
    pool.on('nodeAdded', (event) => added.push(event.node));
    pool.addNode({ id: 'b' });
    expect(added).toEqual(['b']);
    expect(pool.nodes.map((node) => node.id)).toEqual(['a', 'b']);
    expect(() => pool.addNode({ id: 'b' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    const onB = await pool.acquire({ node: 'b' });
    const reasons: string[] = [];
    pool.on('destroy', (event) => reasons.push(event.reason));
    let removed = false;
    const removing = pool.removeNode('b', { drain: true }).then(() => { removed = true; });
    await expect(pool.acquire({ node: 'b' })).rejects.toMatchObject({ code: 'NODE_UNKNOWN' });
    await flushPromises();
    expect(removed).toBe(false);
    await onB.release();
    await removing;
    expect(reasons).toEqual(['node-removed']);
    expect(pool.nodes.map((node) => node.id)).toEqual(['a']);
    await expect(pool.removeNode('zzz')).rejects.toMatchObject({ code: 'NODE_UNKNOWN' });
    await pool.drain();
  });

  it('removeNode without drain closes leased connections too and fails waiters that named the node', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 1 });
    const held = await pool.acquire({ node: 'b' });
    const waiting = pool.acquire({ node: 'b' }).catch((error: unknown) => error);
    await pool.removeNode('b');
    expect(await waiting).toMatchObject({ code: 'NODE_UNKNOWN' });
    expect(pool.stats().total).toBe(0);
    await held.release(); // the user's release of a lease whose connection is gone is harmless
    await pool.drain();
  });

  it('drainNode recycles every connection of a node and keeps the node', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, nodes: [{ id: 'a' }] });
    const held = await pool.acquire();
    const idle = await pool.acquire();
    await idle.release();
    const draining = pool.drainNode('a', { timeoutMs: 1_000 });
    await flushPromises();
    expect(pool.stats().nodes.a).toMatchObject({ total: 1, active: 1 });
    await clock.advance(1_000);
    await draining;
    expect(pool.stats().nodes.a).toMatchObject({ total: 0 });
    await held.release();
    const fresh = await pool.acquire();
    expect(fresh.connection.id).toBe(3);
    await fresh.release();
    await pool.drain();
  });
});

describe('balancers and affinity', () => {
  it('round-robin rotates and honours weights', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: [{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }], balancer: 'round-robin', maxPerNode: 100 });
    const leases = await Promise.all(Array.from({ length: 40 }, () => pool.acquire()));
    const counts = countBy(leases.map((lease) => lease.node.id));
    expect(counts).toEqual({ a: 30, b: 10 });
    await Promise.all(leases.map((lease) => lease.release()));
    await pool.drain();
  });

  it('least-connections and p2c spread load over nodes', async () => {
    for (const balancer of ['least-connections', 'p2c'] as const) {
      const pool = createPool({ factory: trackingFactory(), nodes: threeNodes(), balancer, maxPerNode: 100 });
      const leases = await Promise.all(Array.from({ length: 60 }, () => pool.acquire()));
      const counts = countBy(leases.map((lease) => lease.node.id));
      for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThanOrEqual(balancer === 'p2c' ? 10 : 20);
      await Promise.all(leases.map((lease) => lease.release()));
      await pool.drain();
    }
  });

  it('random honours weights roughly', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: [{ id: 'a', weight: 9 }, { id: 'b', weight: 1 }], balancer: 'random', maxPerNode: 1000 });
    const leases = await Promise.all(Array.from({ length: 500 }, () => pool.acquire()));
    const counts = countBy(leases.map((lease) => lease.node.id));
    expect(counts.a).toBeGreaterThan(380);
    expect(counts.b).toBeGreaterThan(10);
    await Promise.all(leases.map((lease) => lease.release()));
    await pool.drain();
  });

  it('accepts a custom balancer function', async () => {
    const pool = createPool({ factory: trackingFactory(), nodes: threeNodes(), balancer: (candidates) => candidates.find((candidate) => candidate.node.id === 'c') });
    const lease = await pool.acquire();
    expect(lease.node.id).toBe('c');
    await lease.release();
    await pool.drain();
  });

  it('affinityKey sticks to one node, moves when it is down and comes back when it recovers', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, clock, nodes: threeNodes(), createRetry: noRetry, circuitBreaker: { failureThreshold: 1, cooldownMs: 1_000 } });
    const home = async (key: string): Promise<string> => pool.use((_connection, lease) => lease.node.id, { affinityKey: key });
    const first = await home('tenant-42');
    for (let i = 0; i < 10; i++) expect(await home('tenant-42')).toBe(first);
    // take the home node down: force a create failure there
    factory.failingNodes.add(first);
    const holder = await pool.acquire({ node: first });
    await pool.acquire({ node: first }).catch(() => undefined);
    await holder.release();
    // the idle connection there still exists; the open circuit makes the key move
    expect(pool.stats().nodes[first]!.circuit).toBe('open');
    const moved = await home('tenant-42');
    expect(moved).not.toBe(first);
    expect(await home('tenant-42')).toBe(moved);
    factory.failingNodes.clear();
    await clock.advance(1_000);
    expect(await home('tenant-42')).toBe(first);
    await pool.drain();
  });

  it('rendezvous hashing moves only the removed node\'s keys', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const pool = createPool({ factory: trackingFactory(), nodes: ids.map((id) => ({ id })), maxPerNode: 1000 });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    const before = new Map<string, string>();
    for (const key of keys) before.set(key, await pool.use((_c, lease) => lease.node.id, { affinityKey: key }));
    const spread = countBy([...before.values()]);
    for (const id of ids) expect(spread[id]).toBeGreaterThan(15);
    await pool.removeNode('c');
    for (const key of keys) {
      const now = await pool.use((_c, lease) => lease.node.id, { affinityKey: key });
      if (before.get(key) !== 'c') expect(now).toBe(before.get(key));
      else expect(now).not.toBe('c');
    }
    await pool.drain();
  });

  it('stays flat with many nodes: p2c touches a constant number of nodes', async () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({ id: `n${i}` }));
    const pool = createPool({ factory: trackingFactory(), nodes, maxPerNode: 1 });
    const leases = await Promise.all(Array.from({ length: 100 }, () => pool.acquire()));
    expect(new Set(leases.map((lease) => lease.node.id)).size).toBe(100);
    await Promise.all(leases.map((lease) => lease.release()));
    await pool.drain();
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
