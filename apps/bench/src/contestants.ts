import { createPool, type PoolNode, type PoolOptions } from '@pool/core';
import { createPool as createGenericPoolFacade } from '@pool/generic-pool';
import genericPool from 'generic-pool';
import tarn from 'tarn';
import { BarePool } from './bare-pool.js';
import type { Contestant } from './harness.js';

/** The trivial connection every pool under test creates: a small object, nothing to validate. */
export class BenchConnection {
  static created = 0;
  readonly id = BenchConnection.created++;
  isOpen = true;
}

export type CoreOptions = Omit<PoolOptions<BenchConnection, PoolNode>, 'factory'>;

/**
 * Core with a factory as cheap as the peers'. Validation on acquire is off because no peer
 * validates (generic-pool testOnBorrow defaults to false, tarn validates nothing, bare nothing).
 */
export function createCorePool(options: CoreOptions) {
  return createPool<BenchConnection>(corePoolOptions(options));
}

/** The options of every core contestant (this build's or a baseline build's): the cheap factory, no validation. */
export function corePoolOptions(options: CoreOptions): PoolOptions<BenchConnection, PoolNode> {
  return {
    factory: {
      create: async () => new BenchConnection(),
      destroy: (connection) => {
        connection.isOpen = false;
      },
    },
    validateOnAcquire: false,
    ...options,
  };
}

export function coreContestant(name: string, options: CoreOptions): Contestant {
  const pool = createCorePool(options);
  return {
    name,
    op: async () => {
      const lease = await pool.acquire();
      await lease.release();
    },
    close: () => pool.close(),
    describe: () => {
      // One stats() call after the run: stats are always on in core, this shows they counted.
      const stats = pool.stats();
      return `stats(): acquired ${stats.acquired.toLocaleString('en-US')}, created ${stats.created}, wait p99 ${stats.waitMs.p99} ms`;
    },
  };
}

/** Core through `pool.use(fn)`, the way the docs recommend calling it. */
export function coreUseContestant(name: string, options: CoreOptions): Contestant {
  const pool = createCorePool(options);
  const work = (): undefined => undefined;
  return { name, op: () => pool.use(work), close: () => pool.close() };
}

export function genericPoolContestant(max: number): Contestant {
  const pool = genericPool.createPool(
    { create: async () => new BenchConnection(), destroy: async () => undefined },
    { max },
  );
  return {
    name: 'generic-pool',
    op: async () => {
      const connection = await pool.acquire();
      await pool.release(connection);
    },
    close: async () => {
      await pool.drain();
      await pool.clear();
    },
  };
}

/** @pool/generic-pool: generic-pool's API on core, called exactly like genericPoolContestant. */
export function genericPoolFacadeContestant(name: string, max: number): Contestant {
  const pool = createGenericPoolFacade(
    { create: async () => new BenchConnection(), destroy: async () => undefined },
    { max },
  );
  return {
    name,
    op: async () => {
      const connection = await pool.acquire();
      await pool.release(connection);
    },
    close: async () => {
      await pool.drain();
      await pool.clear();
    },
  };
}

export function tarnContestant(max: number): Contestant {
  const pool = new tarn.Pool<BenchConnection>({ create: async () => new BenchConnection(), destroy: () => undefined, min: 0, max });
  return {
    name: 'tarn',
    op: async () => {
      const connection = await pool.acquire().promise;
      pool.release(connection);
    },
    close: async () => {
      await pool.destroy();
    },
  };
}

export function bareContestant(max: number): Contestant {
  const pool = new BarePool(() => new BenchConnection(), max);
  return {
    name: 'bare',
    op: async () => {
      const connection = await pool.acquire();
      pool.release(connection);
    },
    close: () => undefined,
  };
}

/** A pool holding `count` idle connections, built by acquiring `count` at once and releasing all. */
export interface IdlePool {
  name: string;
  idle(): number;
  close(): Promise<void> | void;
}

export type IdlePoolBuilder = (count: number) => Promise<IdlePool>;

export const idlePoolBuilders: readonly IdlePoolBuilder[] = [
  async (count) => {
    const pool = createCorePool({ maxPerNode: count, maxTotal: count });
    const leases = await Promise.all(Array.from({ length: count }, () => pool.acquire()));
    await Promise.all(leases.map((lease) => lease.release()));
    return { name: '@pool/core', idle: () => pool.stats().idle, close: () => pool.close() };
  },
  async (count) => {
    const pool = genericPool.createPool(
      { create: async () => new BenchConnection(), destroy: async () => undefined },
      { max: count },
    );
    const connections = await Promise.all(Array.from({ length: count }, () => pool.acquire()));
    await Promise.all(connections.map((connection) => pool.release(connection)));
    return {
      name: 'generic-pool',
      idle: () => pool.available,
      close: async () => {
        await pool.drain();
        await pool.clear();
      },
    };
  },
  async (count) => {
    const pool = new tarn.Pool<BenchConnection>({ create: async () => new BenchConnection(), destroy: () => undefined, min: 0, max: count });
    const connections = await Promise.all(Array.from({ length: count }, () => pool.acquire().promise));
    for (const connection of connections) pool.release(connection);
    return {
      name: 'tarn',
      idle: () => pool.numFree(),
      close: async () => {
        await pool.destroy();
      },
    };
  },
  async (count) => {
    const pool = new BarePool(() => new BenchConnection(), count);
    const connections = await Promise.all(Array.from({ length: count }, () => pool.acquire()));
    for (const connection of connections) pool.release(connection);
    return { name: 'bare', idle: () => pool.idleCount, close: () => undefined };
  },
];
