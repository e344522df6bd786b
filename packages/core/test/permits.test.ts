import { describe, expect, it } from 'vitest';
import { createPool, isPoolError, type Permit, type PermitRequest, type PermitSource, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory } from '@pool/testkit';

/** An in-memory permit source (a test double of the seam): `max` permits per node, FIFO. */
class MemoryPermits implements PermitSource {
  readonly held = new Set<TestPermit>();
  readonly queue: { node: string; grant: (permit: Permit) => void }[] = [];
  released = 0;
  yieldWhenContended = false;

  constructor(private readonly max: number) {}

  acquire(node: PoolNode, request: PermitRequest): Promise<Permit> {
    if (this.heldOn(node.id) < this.max) return Promise.resolve(this.grant(node.id));
    return new Promise((resolve, reject) => {
      const entry = { node: node.id, grant: (permit: Permit) => resolve(permit) };
      this.queue.push(entry);
      request.signal.addEventListener('abort', () => {
        this.queue.splice(this.queue.indexOf(entry), 1);
        reject(request.signal.reason);
      }, { once: true });
    });
  }

  heldOn(node: string): number {
    return [...this.held].filter((permit) => permit.node === node).length;
  }

  private grant(node: string): TestPermit {
    const permit = new TestPermit(node, this);
    this.held.add(permit);
    return permit;
  }

  giveBack(permit: TestPermit): void {
    if (!this.held.delete(permit)) throw new Error('permit released twice');
    this.released++;
    const next = this.queue.findIndex((entry) => entry.node === permit.node);
    if (next >= 0) this.queue.splice(next, 1)[0]!.grant(this.grant(permit.node));
  }

  contended(node: string): boolean {
    return this.queue.some((entry) => entry.node === node);
  }
}

class TestPermit implements Permit {
  private readonly controller = new AbortController();
  readonly lost = this.controller.signal;
  wanted: (() => void) | undefined;

  onWanted(listener: () => void): void {
    this.wanted = listener;
  }

  constructor(readonly node: string, private readonly source: MemoryPermits) {}

  release(): void {
    this.source.giveBack(this);
  }

  shouldReturn(): boolean {
    return this.source.yieldWhenContended && this.source.contended(this.node);
  }

  lose(): void {
    this.controller.abort(new Error('lease expired'));
  }
}

function setup(options: { max: number; permitMax: number; acquireTimeoutMs?: number; createDelayMs?: number }) {
  const clock = new FakeClock();
  const factory = trackingFactory(options.createDelayMs ? { createDelayMs: options.createDelayMs } : {});
  const permits = new MemoryPermits(options.permitMax);
  const pool = createPool({
    factory, clock, permits, maxPerNode: options.max, acquireTimeoutMs: options.acquireTimeoutMs ?? 1_000,
    validateOnAcquire: false, healthCheckIntervalMs: 0,
  });
  return { clock, factory, permits, pool };
}

describe('permits (PoolOptions.permits)', () => {
  it('a create waits for a permit; the permit comes back once the destroy settled', async () => {
    const { factory, permits, pool } = setup({ max: 4, permitMax: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const third = pool.acquire();
    await flushPromises();
    expect(factory.createCalls).toBe(2);
    expect(pool.stats().permits).toEqual({ held: 2, waiting: 1 });
    expect(pool.stats().nodes.default!.permits).toEqual({ held: 2, waiting: 1 });
    await a.destroy(); // destroy: its permit goes to the waiting create
    await flushPromises();
    expect(factory.destroyed).toHaveLength(1);
    expect(permits.released).toBe(1);
    const c = await third;
    expect(factory.createCalls).toBe(3);
    expect(pool.stats().permits).toEqual({ held: 2, waiting: 0 });
    await b.release();
    await c.release();
    await pool.drain();
    expect(permits.held.size).toBe(0);
    expect(permits.released).toBe(3);
    expect(pool.stats().permits).toEqual({ held: 0, waiting: 0 });
  });

  it('the wait for a permit counts against the acquire timeout, not createTimeoutMs', async () => {
    const { clock, permits, pool } = setup({ max: 4, permitMax: 1, acquireTimeoutMs: 500 });
    const held = await pool.acquire();
    const waiting = pool.acquire().then(() => 'leased', (error: unknown) => error);
    await clock.advance(499);
    expect(pool.stats().permits?.waiting).toBe(1);
    await clock.advance(1);
    const error = await waiting;
    expect(isPoolError(error) && error.code).toBe('ACQUIRE_TIMEOUT');
    await flushPromises();
    expect(pool.stats().permits).toEqual({ held: 1, waiting: 0 });
    expect(permits.queue).toHaveLength(0); // the source saw the abort
    // A per-call timeoutMs bounds it too.
    const short = pool.acquire({ timeoutMs: 50 }).catch((caught: unknown) => caught);
    await clock.advance(50);
    expect(isPoolError(await short) && (await short as { code: string }).code).toBe('ACQUIRE_TIMEOUT');
    await held.release();
    await pool.close();
  });

  it('createTimeoutMs starts once the permit is held', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ createDelayMs: 300 });
    const permits = new MemoryPermits(1);
    const pool = createPool({ factory, clock, permits, maxPerNode: 2, acquireTimeoutMs: 5_000, createTimeoutMs: 400, validateOnAcquire: false });
    const first = pool.acquire();
    await clock.advance(300);
    const a = await first;
    const second = pool.acquire();
    await clock.advance(1_000); // waiting for the permit far past createTimeoutMs
    a.destroy();
    await flushPromises();
    await clock.advance(300); // the create itself takes 300 ms < 400
    const b = await second;
    expect(pool.stats().createFailures).toBe(0);
    await b.release();
    await pool.close();
  });

  it('a lost permit retires its connection: at once when idle, at release when leased', async () => {
    const { factory, permits, pool } = setup({ max: 2, permitMax: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await b.release();
    const [first, second] = [...permits.held];
    first!.lose();
    second!.lose();
    await flushPromises();
    // The idle one is destroyed now, the leased one is not yet.
    expect(factory.destroyed.map((connection) => connection.id)).toEqual([b.connection.id]);
    await a.release();
    await flushPromises();
    expect(factory.destroyed).toHaveLength(2);
    expect(permits.released).toBe(2);
    const fresh = await pool.acquire();
    expect(fresh.connection.id).not.toBe(a.connection.id);
    await fresh.release();
    await pool.close();
  });

  it('shouldReturn() retires the connection at release so the permit cycles', async () => {
    const { factory, permits, pool } = setup({ max: 2, permitMax: 1 });
    permits.yieldWhenContended = true;
    const a = await pool.acquire();
    await a.release(); // nobody waits: kept
    expect(factory.destroyed).toHaveLength(0);
    const again = await pool.acquire();
    // Another node's worth of demand: a second pool on the same source waits for the permit.
    const other = createPool({ factory: trackingFactory(), permits, maxPerNode: 1, validateOnAcquire: false });
    const elsewhere = other.acquire();
    await flushPromises();
    expect(permits.contended('default')).toBe(true);
    await again.release();
    await flushPromises();
    expect(factory.destroyed).toHaveLength(1);
    const lease = await elsewhere;
    await lease.release();
    await other.close();
    await pool.close();
  });

  it('a permit lost while its connection is created: no retry on it, the permit goes back', async () => {
    const { factory, permits, pool } = setup({ max: 2, permitMax: 2 });
    let open: () => void = () => undefined;
    factory.gate = new Promise<void>((resolve) => { open = resolve; });
    const acquiring = pool.acquire().catch((caught: unknown) => caught);
    await flushPromises();
    expect(factory.createCalls).toBe(1);
    [...permits.held][0]!.lose();
    factory.gate = undefined;
    open();
    const error = await acquiring;
    expect(isPoolError(error) && error.code).toBe('CREATE_FAILED');
    await flushPromises();
    expect(factory.createCalls).toBe(1);
    expect(factory.live.size).toBe(0);
    expect(permits.held.size).toBe(0);
    expect(pool.stats().permits).toEqual({ held: 0, waiting: 0 });
    await pool.close();
  });

  it('onWanted closes an idle connection at once, not a leased one', async () => {
    const { factory, permits, pool } = setup({ max: 2, permitMax: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await b.release();
    for (const permit of permits.held) permit.wanted?.();
    await flushPromises();
    expect(factory.destroyed.map((connection) => connection.id)).toEqual([b.connection.id]);
    expect(a.connection.isDestroyed).toBe(false);
    expect(pool.stats().permits?.held).toBe(1);
    await a.release();
    await pool.close();
  });

  it('a source that fails gives the acquire CREATE_FAILED with its reason', async () => {
    const clock = new FakeClock();
    const permits: PermitSource = { acquire: () => Promise.reject(new Error('redis is down')) };
    const pool = createPool({ factory: trackingFactory(), clock, permits, createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(isPoolError(error) && error.code).toBe('CREATE_FAILED');
    expect((error as Error).message).toContain('redis is down');
    expect(pool.stats().createFailures).toBe(0);
    expect(pool.stats().nodes.default!.circuit).toBe('closed');
    await pool.close();
  });

  it('close aborts the creates waiting for a permit', async () => {
    const { permits, pool } = setup({ max: 2, permitMax: 1, acquireTimeoutMs: 60_000 });
    const a = await pool.acquire();
    const waiting = pool.acquire().catch((caught: unknown) => caught);
    await flushPromises();
    const closing = pool.close();
    expect(isPoolError(await waiting) && (await waiting as { code: string }).code).toBe('POOL_CLOSED');
    await a.release();
    await closing;
    await flushPromises();
    expect(permits.held.size).toBe(0);
    expect(permits.queue).toHaveLength(0);
  });

  it('refuses a permits option that is not a source; no permits means no permits in stats', () => {
    expect(() => createPool({ factory: trackingFactory(), permits: {} as PermitSource })).toThrow(/Invalid option permits/);
    const pool = createPool({ factory: trackingFactory() });
    expect(pool.stats().permits).toBeUndefined();
    expect(pool.stats().nodes.default!.permits).toBeUndefined();
    void pool.close();
  });
});
