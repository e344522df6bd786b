import type { NodeSelector } from './balancer.js';
import { PoolError } from './errors.js';
import type { NodeChecks } from './node-checks.js';
import type { CircuitPolicy } from './circuit-policy.js';
import type { ConnectionCreator } from './creator.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import type { PoolNode, ResolvedOptions } from './options.js';
import type { NodeState, PooledConnection, Waiter } from './records.js';

/** What supplying capacity reads and starts: the limits, the nodes and their circuits, a create, an eviction, and the one way a waiter fails. */
export interface SupplyPool<C, N extends PoolNode> {
  readonly options: Pick<ResolvedOptions<C, N>, 'maxLeasesPerConnection' | 'maxPerNode' | 'maxTotal'>;
  readonly nodeList: readonly NodeState<C, N>[];
  readonly total: number;
  readonly circuits: Pick<CircuitPolicy<C, N>, 'refresh' | 'waitMs' | 'isEveryCircuitOpen'>;
  readonly creator: Pick<ConnectionCreator<C, N>, 'start'>;
  readonly lifecycle: Pick<ConnectionLifecycle<C, N>, 'destroy'>;
  failWaiter(waiter: Waiter<C, N>, error: PoolError): void;
  /** Hands freed capacity to waiters. */
  pump(now?: number): void;
}

/**
 * What a waiter gets when no connection is free: a seat on a create or a validation already under
 * way, a create of its own, room made at maxTotal by closing an idle connection elsewhere, or
 * NODE_UNAVAILABLE when no node ever could serve it.
 */
export class CapacitySupply<C, N extends PoolNode> {
  /** Nodes with a multiplexed connection being validated for a waiter (a set: 1,000 nodes stay cheap). */
  private readonly validatingNodes = new Set<NodeState<C, N>>();
  private readonly isExclusive: boolean;

  constructor(
    private readonly pool: SupplyPool<C, N>,
    private readonly selector: NodeSelector<C, N>,
    /** The dispatcher's node tests, already set to the time of this dispatch. */
    private readonly checks: NodeChecks<C, N>,
  ) {
    this.isExclusive = pool.options.maxLeasesPerConnection === 1;
  }

  /** No connection is free for this waiter: a seat on a validation or create under way, a create of its own, or NODE_UNAVAILABLE when no node ever could serve it. */
  provide(waiter: Waiter<C, N>, now: number): void {
    if (this.validatingNodes.size > 0 && waiter.node === undefined && waiter.affinityKey === undefined && this.rideAnyValidation(waiter)) return;
    let node = waiter.node;
    if (node === undefined) {
      const { canCreateOn } = this.checks;
      const canCreate = waiter.failedNodes === undefined ? canCreateOn : (candidate: NodeState<C, N>) => canCreateOn(candidate) && !waiter.failedNodes!.includes(candidate.id);
      node = waiter.affinityKey !== undefined ? this.selector.pick(this.pool.nodeList, this.checks.isHealthy, waiter.affinityKey) : this.selector.pick(this.pool.nodeList, canCreate);
      if (node === undefined) {
        if (this.pool.nodeList.length === 0) this.pool.failWaiter(waiter, noNodes());
        else if (!this.pool.nodeList.some(this.checks.isHealthy)) this.pool.failWaiter(waiter, unavailableAll(this.pool, now, waiter.lastCreateError));
        return;
      }
    } else {
      this.pool.circuits.refresh(node, now);
      if (node.circuit === 'open') {
        this.pool.failWaiter(waiter, unavailable(node));
        return;
      }
    }
    if (this.rideValidation(node, waiter)) return;
    if (!node.isSelectable || !node.mayCreate || node.total >= this.pool.options.maxPerNode || node.leases + node.creating >= node.leaseLimit) return;
    if (this.claimCreate(node, waiter)) return;
    if (this.pool.total >= this.pool.options.maxTotal) {
      this.evictIdleElsewhere(waiter, node);
      return;
    }
    this.pool.creator.start(node, waiter);
  }

  /**
   * A create already under way on the node serves the waiter instead of a new one: a warm-up
   * create nobody claimed yet, or, when connections are multiplexed, one with a lease to spare.
   */
  private claimCreate(node: NodeState<C, N>, waiter: Waiter<C, N>): boolean {
    if (node.creating === 0) return false;
    const seats = Math.min(this.pool.options.maxLeasesPerConnection, node.leaseCapHint);
    for (const record of node.connections) {
      if (record.state !== 'creating') continue;
      // A sponsor already served elsewhere leaves its create free to claim.
      if (record.sponsor === undefined || record.sponsor.isSettled) {
        record.sponsor = waiter;
      } else if (1 + countWaiting(record.riders) < seats) {
        (record.riders ??= []).push(waiter);
      } else {
        continue;
      }
      waiter.hasPendingCreate = true;
      return true;
    }
    return false;
  }

  /**
   * A multiplexed connection being validated for another waiter will have leases to spare if it
   * passes: wait for it rather than open a connection (a burst after an idle spell would otherwise
   * open one per validation under way).
   */
  private rideValidation(node: NodeState<C, N>, waiter: Waiter<C, N>): boolean {
    if (this.isExclusive || node.validatingForAcquire === 0) return false;
    for (const record of node.connections) {
      if (record.state !== 'validating' || record.riders === undefined) continue;
      if (1 + countWaiting(record.riders) < record.maxLeases - record.leases) {
        record.riders.push(waiter);
        waiter.hasPendingCreate = true;
        return true;
      }
    }
    return false;
  }

  /** A waiter that may go to any node rides on a validation on any node, rather than create. */
  private rideAnyValidation(waiter: Waiter<C, N>): boolean {
    for (const node of this.validatingNodes) {
      if (!node.isSelectable || waiter.failedNodes?.includes(node.id)) continue;
      if (this.rideValidation(node, waiter)) return true;
    }
    return false;
  }

  /** A multiplexed connection goes into validation for a waiter: others may ride on it. */
  validationStarted(record: PooledConnection<C, N>): void {
    record.riders = [];
    if (record.node.validatingForAcquire++ === 0) this.validatingNodes.add(record.node);
  }

  /** Its validation ended, either way: its riders look for capacity again. */
  validationEnded(record: PooledConnection<C, N>): void {
    for (const rider of record.riders ?? []) rider.hasPendingCreate = false;
    record.riders = undefined;
    if (--record.node.validatingForAcquire === 0) this.validatingNodes.delete(record.node);
  }

  /** At maxTotal, an idle connection of another node makes room for a waiter of this one. */
  private evictIdleElsewhere(waiter: Waiter<C, N>, target: NodeState<C, N>): void {
    for (const node of this.pool.nodeList) {
      if (node === target || node.idle === 0) continue;
      for (let record = node.available.head; record; record = record.next) {
        if (record.leases === 0 && record.state === 'idle') {
          waiter.hasPendingCreate = true;
          void this.pool.lifecycle.destroy(record, 'idle', undefined).then(() => {
            waiter.hasPendingCreate = false;
            this.pool.pump();
          });
          return;
        }
      }
    }
  }
}

/** The error for an acquire that needs a node whose circuit is open. */
export function unavailable<C, N extends PoolNode>(node: NodeState<C, N>): PoolError {
  return new PoolError('NODE_UNAVAILABLE', `Node '${node.id}' is unavailable: its circuit is open after ${node.consecutiveFailures} failed creates${node.lastError ? ` (last: ${node.lastError})` : ''}`);
}

/** The error for an acquire no node can serve now: every circuit open (say when the next trial is due), or nodes draining. */
function unavailableAll<C, N extends PoolNode>(pool: SupplyPool<C, N>, now: number, cause: unknown): PoolError {
  let message: string;
  if (pool.circuits.isEveryCircuitOpen) {
    let nextTrialMs = Infinity;
    for (const node of pool.nodeList) {
      if (node.circuit === 'open') nextTrialMs = Math.min(nextTrialMs, Math.max(0, node.openedAt + pool.circuits.waitMs(node) - now));
    }
    const next = nextTrialMs === Infinity ? 'a trial create is under way' : `next trial create in ${Math.ceil(nextTrialMs)} ms`;
    message = `No node can serve: every circuit is open (${next})`;
  } else {
    message = 'No node can serve: every node is draining or has its circuit open';
  }
  return new PoolError('NODE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

/** The error for an acquire on a pool with no nodes (`nodes: []`, or all removed): nothing to wait for until addNode. */
export function noNodes(): PoolError {
  return new PoolError('NODE_UNAVAILABLE', 'The pool has no nodes: add one with addNode() (nodes: [] or every node removed)');
}

function countWaiting<C, N extends PoolNode>(riders: Waiter<C, N>[] | undefined): number {
  let count = 0;
  if (riders) for (const rider of riders) if (!rider.isSettled) count++;
  return count;
}
