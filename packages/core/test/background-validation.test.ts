import { describe, expect, it } from 'vitest';
import { createPool, type ConnectionFactory, type DestroyReason, type Pool, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises } from '@pool/testkit';

// A connection under background validation (healthCheckIntervalMs) when its node is removed or
// the connection is invalidated: once the check ends it is destroyed, and the destroy event says
// why, as it does for a connection that was idle at that moment.

interface Conn {
  id: number;
  invalidate: (reason?: unknown) => void;
}

function heldValidation() {
  let created = 0;
  const pending: ((isValid: boolean) => void)[] = [];
  const connections: Conn[] = [];
  const factory: ConnectionFactory<Conn, PoolNode> = {
    create: async (_node, ctx) => {
      const connection = { id: ++created, invalidate: ctx.invalidate };
      connections.push(connection);
      return connection;
    },
    destroy: () => undefined,
    validate: (_connection, ctx) => (ctx.reason === 'idle' ? new Promise<boolean>((resolve) => pending.push(resolve)) : true),
  };
  return { factory, pending, connections };
}

function destroyReasons(pool: Pool<Conn>): DestroyReason[] {
  const reasons: DestroyReason[] = [];
  pool.on('destroy', (event) => reasons.push(event.reason));
  return reasons;
}

async function poolWithOneIdleUnderCheck() {
  const clock = new FakeClock();
  const held = heldValidation();
  const pool = createPool({
    factory: held.factory, clock, nodes: [{ id: 'a' }, { id: 'b' }], healthCheckIntervalMs: 100, idleTimeoutMs: 0, maxLifetimeMs: 0,
  });
  const lease = await pool.acquire({ node: 'b' });
  await lease.release();
  await clock.advance(1_000);
  expect(held.pending.length).toBe(1); // the idle connection of b is being validated
  return { pool, clock, ...held };
}

describe('background validation that ends after its connection was retired', () => {
  it("reports 'node-removed' for a connection of a node removed during its check", async () => {
    const { pool, pending } = await poolWithOneIdleUnderCheck();
    const reasons = destroyReasons(pool);
    const removing = pool.removeNode('b');
    await flushPromises();
    pending[0]!(true);
    await removing;
    expect(reasons).toEqual(['node-removed']);
    expect(pool.stats().nodes['b']).toBeUndefined();
    await pool.drain();
  });

  it("reports 'broken' for a connection invalidated during its check", async () => {
    const { pool, pending, connections } = await poolWithOneIdleUnderCheck();
    const reasons = destroyReasons(pool);
    connections[0]!.invalidate(new Error('peer closed'));
    pending[0]!(true);
    await flushPromises();
    expect(reasons).toEqual(['broken']);
    expect(pool.stats().total).toBe(0);
    await pool.drain();
  });

  it("reports 'invalid' for a connection that fails its check", async () => {
    const { pool, pending } = await poolWithOneIdleUnderCheck();
    const reasons = destroyReasons(pool);
    pending[0]!(false);
    await flushPromises();
    expect(reasons).toEqual(['invalid']);
    await pool.drain();
  });
});
