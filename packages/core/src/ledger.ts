import { setUnrefTimeout, type Clock, type ClockTimer } from './clock.js';
import { PoolEmitter } from './events.js';
import { Histogram } from './histogram.js';
import type { ConnectionState, NodeState, PooledConnection } from './records.js';
import type { PoolNode } from './options.js';
import type { PartitionState } from './partitions.js';
import type { PoolStats } from './stats.js';
import type { WaiterQueue } from './waiters.js';

/**
 * The pool's books: its nodes, every count and list kept in step with the nodes' own, the
 * counters and histograms behind stats(), and the watchers woken after each change. The
 * engine extends it, so the hot path reads these fields with no indirection.
 */
export abstract class PoolLedger<C, N extends PoolNode> extends PoolEmitter {
  abstract readonly clock: Clock;
  abstract readonly partitions: Map<string, PartitionState>;
  abstract readonly waiters: WaiterQueue<C, N>;
  readonly nodeList: NodeState<C, N>[] = [];
  readonly nodeMap = new Map<string, NodeState<C, N>>();
  /** Nodes with at least one connection that can take a lease now: selection looks here first. */
  readonly availableNodes: NodeState<C, N>[] = [];

  // Pool-wide counts, kept in step with the nodes' own.
  total = 0;
  idle = 0;
  active = 0;
  creating = 0;
  leases = 0;
  /** Connections with spare lease capacity, over all nodes. */
  available = 0;
  /** Nodes whose circuit is not closed; while any is, every pump visits every waiter. */
  openCircuits = 0;

  readonly counters = {
    created: 0, destroyed: 0, acquired: 0, released: 0, timeouts: 0, aborted: 0,
    createFailures: 0, validationFailures: 0, leaksDetected: 0,
  };
  readonly waitMs = new Histogram();
  readonly createMs = new Histogram();
  readonly useMs = new Histogram();
  /** `PoolOptions.name`. */
  abstract readonly name: string;
  /** For stats(): maxPerNode, maxTotal and minIdlePerNode. */
  abstract readonly limits: { readonly maxPerNode: number; readonly maxTotal: number; readonly minIdlePerNode: number; readonly maxLeasesPerConnection: number };
  private readonly watchers = new Set<() => void>();

  /** Hands freed capacity to waiters. */
  abstract pump(now?: number): void;

  setState(record: PooledConnection<C, N>, state: ConnectionState): void {
    const node = record.node;
    switch (record.state) {
      case 'idle': node.idle--; this.idle--; break;
      case 'active': node.active--; this.active--; break;
      case 'creating': node.creating--; this.creating--; break;
      default: break;
    }
    switch (state) {
      case 'idle': node.idle++; this.idle++; break;
      case 'active': node.active++; this.active++; break;
      case 'creating': node.creating++; this.creating++; break;
      default: break;
    }
    record.state = state;
    if (state === 'validating' || state === 'closing') this.removeAvailable(record);
  }

  makeIdle(record: PooledConnection<C, N>, now: number, isFreshIdle: boolean): void {
    this.setState(record, record.leases > 0 ? 'active' : 'idle');
    if (isFreshIdle && record.leases === 0) record.idleSince = now;
    if (!record.isAvailable && !record.isRetired && record.hasSpareCapacity) this.addAvailable(record);
  }

  addAvailable(record: PooledConnection<C, N>): void {
    const node = record.node;
    node.available.push(record);
    this.available++;
    if (node.availableIndex < 0) {
      node.availableIndex = this.availableNodes.length;
      this.availableNodes.push(node);
    }
  }

  removeAvailable(record: PooledConnection<C, N>): void {
    if (!record.isAvailable) return;
    const node = record.node;
    node.available.remove(record);
    this.available--;
    if (node.available.size === 0 && node.availableIndex >= 0) {
      const last = this.availableNodes.pop()!;
      if (last !== node) {
        this.availableNodes[node.availableIndex] = last;
        last.availableIndex = node.availableIndex;
      }
      node.availableIndex = -1;
    }
  }

  /** After any change of capacity: serve waiters, then wake whoever waits for a quiet state. */
  afterChange(now?: number): void {
    this.pump(now);
    if (this.watchers.size > 0) for (const check of this.watchers) check();
  }

  /** Resolves once `isDone()` holds (checked after every change) or after `timeoutMs`; true if it held. */
  whenDone(isDone: () => boolean, timeoutMs = Infinity): Promise<boolean> {
    if (isDone()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: ClockTimer | undefined;
      const check = (): void => {
        if (!isDone()) return;
        finish(true);
      };
      const finish = (result: boolean): void => {
        this.watchers.delete(check);
        if (timer) this.clock.clearTimeout(timer);
        resolve(result);
      };
      this.watchers.add(check);
      if (timeoutMs !== Infinity) timer = setUnrefTimeout(this.clock, () => finish(isDone()), timeoutMs);
    });
  }

  /** Drops a record from the books once its create failed or its destroy settled. */
  forgetRecord(record: PooledConnection<C, N>): void {
    const node = record.node;
    if (!node.connections.delete(record)) return;
    this.setState(record, 'closing');
    this.total--;
  }

  /** Plain, JSON-serialisable numbers; cheap enough to call on every scrape. */
  stats(): PoolStats {
    const nodes: PoolStats['nodes'] = {};
    for (const node of this.nodeList) {
      nodes[node.id] = {
        total: node.total, idle: node.idle, active: node.active, creating: node.creating,
        waiting: node.waiting, healthy: node.circuit !== 'open', circuit: node.circuit,
        leases: node.leases, acquired: node.acquired, created: node.created, destroyed: node.destroyed,
        createFailures: node.createFailures, validationFailures: node.validationFailures,
        limit: Math.min(node.leaseLimit, this.limits.maxPerNode * this.limits.maxLeasesPerConnection),
      };
    }
    const partitions: PoolStats['partitions'] = {};
    for (const partition of this.partitions.values()) {
      partitions[partition.name] = { active: partition.active, waiting: partition.waiting, max: partition.max };
    }
    const nodeCount = this.nodeList.length;
    const { maxPerNode, maxTotal, minIdlePerNode } = this.limits;
    return {
      name: this.name, max: Math.min(maxTotal, maxPerNode * nodeCount), minIdle: minIdlePerNode * nodeCount,
      total: this.total, idle: this.idle, active: this.active, creating: this.creating,
      waiting: this.waiters.size, leases: this.leases, ...this.counters,
      waitMs: this.waitMs.summary(), createMs: this.createMs.summary(), useMs: this.useMs.summary(), nodes, partitions,
    };
  }
}
