import type { AdaptiveLimiter } from './limits/limiter.js';
import { PoolError } from './errors.js';
import type { ConnectionCreator } from './creator.js';
import type { DestroyReason, PoolEmitter } from './events.js';
import type { PoolLedger } from './ledger.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import { NodeState, type PooledConnection, type Waiter } from './records.js';
import type { PoolNode } from './options.js';
import { checkNode } from './resolve-options.js';
import type { WaiterQueue } from './waiters.js';

/**
 * What adding, removing and draining nodes touches: the node books (list, map, circuit count),
 * the waiters that named a removed node, the connections it retires, and the watchers it waits on.
 */
export interface MemberPool<C, N extends PoolNode>
  extends Pick<PoolLedger<C, N>, 'nodeList' | 'nodeMap' | 'openCircuits' | 'removeAvailable' | 'whenDone' | 'afterChange'>,
    Pick<PoolEmitter, 'emit'> {
  readonly isClosed: boolean;
  readonly waiters: Pick<WaiterQueue<C, N>, 'forEach'>;
  readonly creator: Pick<ConnectionCreator<C, N>, 'abort'>;
  readonly lifecycle: Pick<ConnectionLifecycle<C, N>, 'destroy'>;
  /** `options.adaptiveLimit` as the engine consults it; undefined when off. */
  readonly limiter: Pick<AdaptiveLimiter, 'limitOf' | 'forget'> | undefined;
  failWaiter(waiter: Waiter<C, N>, error: PoolError): void;
  /** Tops every node up to minIdlePerNode. */
  warm(): void;
  /** Hands freed capacity to waiters. */
  pump(now?: number): void;
}

/** The pool's nodes: adding, removing and draining them at run time, and emptying one. */
export class NodeMembership<C, N extends PoolNode> {
  /** The nodes as the user gave them, rebuilt only when membership changes. */
  view: readonly N[] = [];

  constructor(private readonly pool: MemberPool<C, N>) {}

  insert(node: N): NodeState<C, N> {
    const pool = this.pool;
    const state = new NodeState<C, N>(node);
    if (pool.limiter !== undefined) state.leaseLimit = pool.limiter.limitOf(node.id);
    state.index = pool.nodeList.length;
    pool.nodeList.push(state);
    pool.nodeMap.set(node.id, state);
    this.view = pool.nodeList.map((entry) => entry.node);
    return state;
  }

  add(node: N): void {
    const pool = this.pool;
    if (pool.isClosed) throw new PoolError('POOL_CLOSED', 'The pool is closed');
    checkNode(node, 'node', new Set(pool.nodeMap.keys()));
    this.insert(node);
    pool.emit('nodeAdded', { node: node.id });
    pool.warm();
    pool.pump();
  }

  /** Acquires naming the node fail NODE_UNKNOWN from now on; resolves once its connections are gone. */
  remove(id: string, waitForLeases: boolean): Promise<void> {
    const pool = this.pool;
    const node = pool.nodeMap.get(id);
    if (node === undefined) return Promise.reject(new PoolError('NODE_UNKNOWN', `No node '${id}' in this pool`));
    node.isRemoved = true;
    const last = pool.nodeList.pop()!;
    if (last !== node) {
      pool.nodeList[node.index] = last;
      last.index = node.index;
    }
    pool.nodeMap.delete(id);
    pool.limiter?.forget(id);
    this.view = pool.nodeList.map((entry) => entry.node);
    if (node.circuit !== 'closed') pool.openCircuits--;
    pool.waiters.forEach((waiter) => {
      if (waiter.node === node) pool.failWaiter(waiter, new PoolError('NODE_UNKNOWN', `Node '${id}' was removed from the pool`));
    });
    pool.emit('nodeRemoved', { node: id });
    return this.empty(node, waitForLeases ? Infinity : 0, 'node-removed');
  }

  /** Recycles every connection of a node: no new leases meanwhile, then the node serves again. */
  async drainNode(id: string, leaseTimeoutMs: number): Promise<void> {
    const pool = this.pool;
    const node = pool.nodeMap.get(id);
    if (node === undefined) throw new PoolError('NODE_UNKNOWN', `No node '${id}' in this pool`);
    node.isDraining = true;
    try {
      await this.empty(node, leaseTimeoutMs, 'drain');
    } finally {
      node.isDraining = false;
      pool.warm();
      pool.pump();
    }
  }

  /** Destroys a node's idle connections now, waits up to `leaseTimeoutMs` for its leases, then destroys the rest. */
  async empty(node: NodeState<C, N>, leaseTimeoutMs: number, reason: DestroyReason): Promise<void> {
    const pool = this.pool;
    for (const record of node.connections) if (record.leases === 0) this.retire(record, reason);
    await pool.whenDone(() => node.leases === 0, leaseTimeoutMs);
    for (const record of node.connections) this.retire(record, reason);
    await pool.whenDone(() => node.total === 0);
    pool.afterChange();
  }

  private retire(record: PooledConnection<C, N>, reason: DestroyReason): void {
    const pool = this.pool;
    if (record.state === 'creating') {
      pool.creator.abort(record);
      return;
    }
    record.isRetired = true;
    pool.removeAvailable(record);
    if (record.state !== 'validating') void pool.lifecycle.destroy(record, reason, undefined);
  }
}
