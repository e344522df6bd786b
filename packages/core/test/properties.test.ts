import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool, type ConnectionFactory, type Lease, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises } from '@pool/testkit';

interface Conn { id: number; node: string; isDestroyed: boolean; invalidate: (reason?: unknown) => void }

/** Creates take fake time, so creates, timeouts and releases interleave under the schedule. */
function clockedFactory(clock: FakeClock, failing: Set<string>) {
  let nextId = 1;
  const live = new Set<Conn>();
  const factory: ConnectionFactory<Conn> = {
    create: (node, ctx) => new Promise<Conn>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        if (failing.has(node.id)) reject(new Error(`refused by ${node.id}`));
        else {
          const connection = { id: nextId++, node: node.id, isDestroyed: false, invalidate: ctx.invalidate };
          live.add(connection);
          resolve(connection);
        }
      }, 5 + (nextId % 3) * 10);
      ctx.signal.addEventListener('abort', () => { clock.clearTimeout(timer); reject(ctx.signal.reason); }, { once: true });
    }),
    destroy: (connection) => {
      if (connection.isDestroyed) throw new Error('destroyed twice');
      connection.isDestroyed = true;
      live.delete(connection);
    },
  };
  return { factory, live };
}

const nodeIds = ['a', 'b', 'c'] as const;

const operation = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    kind: fc.constant('acquire' as const),
    node: fc.option(fc.constantFrom(...nodeIds), { nil: undefined }),
    partition: fc.option(fc.constantFrom('p', 'q'), { nil: undefined }),
    priority: fc.integer({ min: 0, max: 2 }),
    timeoutMs: fc.integer({ min: 20, max: 400 }),
  }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggleFailure' as const), node: fc.constantFrom(...nodeIds) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeNode' as const), node: fc.constantFrom('b', 'c'), drain: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addNode' as const), node: fc.constantFrom('b', 'c') }) },
);

interface Pending {
  deadline: number;
  settled: boolean;
  controller: AbortController;
  node: string | undefined;
  partition: string | undefined;
}

describe('invariants under random schedules', () => {
  it('holds limits, settles every acquire in time, never double-hands a connection, and drains clean', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 10, maxLength: 60 }), fc.constantFrom(1, 2), async (operations, maxLeasesPerConnection) => {
        const clock = new FakeClock();
        const failing = new Set<string>();
        const { factory, live } = clockedFactory(clock, failing);
        const limits = { maxPerNode: 2, maxTotal: 4, partitions: { p: 2, q: 1 } };
        const pool = createPool<Conn, PoolNode>({
          factory, clock, nodes: nodeIds.map((id) => ({ id })), maxPerNode: limits.maxPerNode, maxTotal: limits.maxTotal,
          maxLeasesPerConnection, partitions: { p: { max: 2 }, q: { max: 1 } },
          createRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 }, circuitBreaker: { failureThreshold: 3, cooldownMs: 300 },
          idleTimeoutMs: 500, maxLifetimeMs: 2_000, lifetimeJitterMs: 100,
        });
        const leases: Lease<Conn, PoolNode>[] = [];
        const pendings: Pending[] = [];
        const violations: string[] = [];
        let sawFailure = false;

        const check = (): void => {
          const stats = pool.stats();
          if (stats.total > limits.maxTotal) violations.push(`total ${stats.total}`);
          for (const [id, node] of Object.entries(stats.nodes)) if (node.total > limits.maxPerNode) violations.push(`node ${id} total ${node.total}`);
          for (const [name, partition] of Object.entries(stats.partitions)) {
            if (partition.active > partition.max) violations.push(`partition ${name} ${partition.active}`);
          }
          const perConnection = new Map<Conn, number>();
          for (const lease of leases) perConnection.set(lease.connection, (perConnection.get(lease.connection) ?? 0) + 1);
          for (const [connection, count] of perConnection) {
            if (count > maxLeasesPerConnection) violations.push(`connection ${connection.id} has ${count} leases`);
          }
          const now = clock.now();
          for (const pending of pendings) if (!pending.settled && now > pending.deadline) violations.push('acquire past its deadline');
          if (stats.createFailures > 0) sawFailure = true;
          // Invariant 6: an idle connection never sits beside a plain waiter that could take it.
          if (!sawFailure && stats.idle > 0) {
            const plainWaiter = pendings.some((pending) => !pending.settled && pending.node === undefined && pending.partition === undefined);
            if (plainWaiter) violations.push(`idle ${stats.idle} while a plain waiter waits`);
          }
        };

        for (const op of operations) {
          switch (op.kind) {
            case 'acquire': {
              const controller = new AbortController();
              const pending: Pending = { deadline: clock.now() + op.timeoutMs, settled: false, controller, node: op.node, partition: op.partition };
              pendings.push(pending);
              const options = { priority: op.priority, timeoutMs: op.timeoutMs, signal: controller.signal, ...(op.node ? { node: op.node } : {}), ...(op.partition ? { partition: op.partition } : {}) };
              pool.acquire(options).then(
                (lease) => {
                  pending.settled = true;
                  if (lease.connection.isDestroyed) violations.push('handed out a destroyed connection');
                  if (op.node && lease.node.id !== op.node) violations.push('named node not honoured');
                  leases.push(lease);
                },
                (error: { code?: string }) => {
                  pending.settled = true;
                  if (!error.code) violations.push(`non-PoolError rejection: ${String(error)}`);
                },
              );
              break;
            }
            case 'release':
            case 'destroy': {
              if (leases.length === 0) break;
              const [lease] = leases.splice(op.index % leases.length, 1);
              await (op.kind === 'release' ? lease!.release() : lease!.destroy(new Error('broken')));
              break;
            }
            case 'invalidate': {
              if (leases.length > 0) leases[op.index % leases.length]!.connection.invalidate(new Error('peer closed'));
              break;
            }
            case 'abort': {
              const open = pendings.filter((pending) => !pending.settled);
              if (open.length > 0) open[op.index % open.length]!.controller.abort('user');
              break;
            }
            case 'advance':
              await clock.advance(op.ms);
              break;
            case 'toggleFailure':
              if (failing.has(op.node)) failing.delete(op.node);
              else failing.add(op.node);
              break;
            case 'removeNode':
              if (pool.nodes.some((node) => node.id === op.node)) {
                const removing = pool.removeNode(op.node, { drain: op.drain });
                // A draining removal waits for leases: release this node's leases so it can finish.
                if (op.drain) for (const lease of leases.filter((held) => held.node.id === op.node)) {
                  leases.splice(leases.indexOf(lease), 1);
                  await lease.release();
                }
                await removing;
                leases.splice(0, leases.length, ...leases.filter((held) => held.node.id !== op.node || held.connection.isDestroyed === false));
              }
              break;
            case 'addNode':
              if (!pool.nodes.some((node) => node.id === op.node)) pool.addNode({ id: op.node });
              break;
          }
          await flushPromises(3);
          check();
        }
        // Let every waiter reach its deadline, then release everything and drain.
        await clock.advance(500);
        check();
        for (const lease of leases.splice(0)) await lease.release().catch(() => undefined);
        await pool.drain();
        await flushPromises();
        const stats = pool.stats();
        if (stats.created !== stats.destroyed) violations.push(`created ${stats.created} != destroyed ${stats.destroyed}`);
        if (live.size !== 0) violations.push(`${live.size} connections left open`);
        if (clock.pendingTimers !== 0) violations.push(`${clock.pendingTimers} timers left after drain`);
        if (pendings.some((pending) => !pending.settled)) violations.push('an acquire never settled');
        expect(violations).toEqual([]);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('serves waiters of one priority first-come, first-served', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 30 }), fc.integer({ min: 1, max: 3 }), async (priorities, size) => {
        const pool = createPool({ factory: { create: async () => ({}), destroy: () => undefined }, maxPerNode: size, priorityAgingMs: Infinity });
        const held = await Promise.all(Array.from({ length: size }, () => pool.acquire()));
        const served: { priority: number; arrival: number }[] = [];
        const waiters = priorities.map((priority, arrival) =>
          pool.acquire({ priority }).then(async (lease) => {
            served.push({ priority, arrival });
            await flushPromises(1);
            await lease.release();
          }));
        await flushPromises(1);
        await Promise.all(held.map((lease) => lease.release()));
        await Promise.all(waiters);
        for (const priority of [0, 1, 2]) {
          const arrivals = served.filter((entry) => entry.priority === priority).map((entry) => entry.arrival);
          expect(arrivals).toEqual([...arrivals].sort((x, y) => x - y));
        }
        await pool.drain();
      }),
      { numRuns: 100 },
    );
  });
});
