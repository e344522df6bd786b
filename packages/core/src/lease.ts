import { PoolError } from './errors.js';
import type { Lease, PoolNode } from './options.js';
import type { PartitionState } from './partitions.js';
import type { PooledConnection } from './records.js';

export type { Lease } from './options.js';

/** What a lease needs from its pool. */
export interface LeaseOwner<C, N extends PoolNode> {
  endLease(lease: PoolLease<C, N>, destroyReason: unknown, isDestroy: boolean): Promise<void>;
}

export class PoolLease<C, N extends PoolNode> implements Lease<C, N> {
  isEnded = false;
  isLeakReported = false;
  readonly useCount: number;

  constructor(
    private readonly owner: LeaseOwner<C, N>,
    readonly record: PooledConnection<C, N>,
    readonly partition: PartitionState | undefined,
    readonly acquiredAt: number,
    readonly stack: string | undefined,
  ) {
    this.useCount = record.useCount;
  }

  get connection(): C {
    return this.record.connection as C;
  }

  get node(): N {
    return this.record.node.node;
  }

  get createdAt(): number {
    return this.record.createdAt;
  }

  release(): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    return this.owner.endLease(this, undefined, false);
  }

  destroy(reason?: unknown): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    return this.owner.endLease(this, reason, true);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.isEnded ? Promise.resolve() : this.release();
  }
}

function alreadyEnded(): PoolError {
  return new PoolError('LEASE_RELEASED', 'This lease was already released or destroyed');
}
