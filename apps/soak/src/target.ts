import type { Pool, PoolNode } from '@pool/core';
import type { TransportName } from './config.js';
import { connectionsNeeded } from './phases.js';

/** What the soak needs of any of the pools. */
export type SoakPool = Pick<Pool<unknown, PoolNode>, 'stats' | 'drain' | 'on'>;

/** What a fault step may ask of the load running against its pool. */
export interface LoadControl {
  /** Stops starting operations for `ms` (running ones finish), so idle connections get validated. */
  idle(ms: number): Promise<void>;
}

/** One fault of phase 2. Steps run in order; each starts at `at` x the phase's length, or when the one before ends. */
export interface FaultStep {
  at: number;
  name: string;
  run(load: LoadControl): Promise<void>;
}

/** One transport under soak: its embedded peers, its pool, its operation and its faults. */
export interface SoakTarget {
  name: TransportName;
  /** Peers and limits, for the report. */
  setup: string;
  pool: SoakPool;
  /** maxPerNode x nodes: `stats().total` may never exceed it. */
  connectionLimit: number;
  /** What the load needs ({@link connectionsNeeded}): phase 1, before any fault, must not use more. */
  connectionsNeeded: number;
  /** Callers running operations back to back: more than one connection can carry. */
  concurrency: number;
  /** One operation; rejects on failure, including a wrong answer ({@link WrongResult}). */
  op(sequence: number): Promise<void>;
  faults: FaultStep[];
  /** Error labels (errors.ts) the faults may cause, from the package's README. */
  expectedFaultErrors: readonly string[];
  /** Stops the peers (after the pool is drained). */
  stop(): Promise<void>;
  /** Passwords and keys in play: scrubbed from everything the soak prints. */
  secrets: readonly string[];
}

/** Settings every pool of the soak shares on top of its defaults (see README.md, "The pools"). */
export const SHARED_POOL_OPTIONS = {
  // With the default 10 s cooldown a circuit opened by a restart late in phase 2 would still be
  // open in phase 3: its trial create would then look like creep. 1 s is what @pool/pg's README
  // recommends for a single server.
  circuitBreaker: { failureThreshold: 5, cooldownMs: 1_000 },
} as const;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The limit and the need of a pool of `nodes` x `maxPerNode` connections carrying `leasesPerConnection` each. */
export function connectionBounds(nodes: number, maxPerNode: number, leasesPerConnection: number, concurrency: number) {
  const connectionLimit = nodes * maxPerNode;
  return {
    connectionLimit,
    connectionsNeeded: connectionsNeeded({ concurrency, leasesPerConnection, nodes, limit: connectionLimit }),
    concurrency,
  };
}
