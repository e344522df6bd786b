import { PoolError } from './errors.js';
import { invalidOption, rejectUnknownOptions } from './option-checks.js';
import type { Lease, LeaseOutcome, PoolNode } from './options.js';
import type { PartitionState } from './partitions.js';
import type { PooledConnection } from './records.js';

export type { Lease, LeaseOutcome } from './options.js';

/** What a lease needs from its pool. */
export interface LeaseOwner<C, N extends PoolNode> {
  endLease(lease: PoolLease<C, N>, destroyReason: unknown, isDestroy: boolean, outcome?: LeaseOutcome): Promise<void>;
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

  release(outcome?: LeaseOutcome): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    if (outcome !== undefined) {
      // Refused before the lease ends, so a bad call can be corrected and nothing is half done.
      const error = checkOutcome(outcome);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.owner.endLease(this, undefined, false, outcome);
  }

  destroy(reason?: unknown): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    return this.owner.endLease(this, reason, true);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.isEnded ? Promise.resolve() : this.release();
  }
}

function checkOutcome(outcome: LeaseOutcome): PoolError | undefined {
  if (outcome === null || typeof outcome !== 'object') return invalidOption('release', outcome, 'must be { latencyMs?, dropped? }');
  try {
    rejectUnknownOptions(outcome, OUTCOME_NAMES, 'release.');
  } catch (error) {
    return error as PoolError;
  }
  const { latencyMs, dropped } = outcome;
  if (latencyMs !== undefined && !(typeof latencyMs === 'number' && latencyMs >= 0 && latencyMs !== Infinity)) {
    return invalidOption('release.latencyMs', latencyMs, 'must be a finite number >= 0');
  }
  if (dropped !== undefined && typeof dropped !== 'boolean') return invalidOption('release.dropped', dropped, 'must be true or false');
  return undefined;
}

const OUTCOME_NAMES = ['latencyMs', 'dropped'] as const;

function alreadyEnded(): PoolError {
  return new PoolError('LEASE_RELEASED', 'This lease was already released or destroyed');
}
