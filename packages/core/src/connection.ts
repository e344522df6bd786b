import type { NodeState } from './node.js';
import type { PoolNode } from './options.js';
import type { Waiter } from './waiters.js';
import type { Permit } from './permits.js';

export type ConnectionState = 'creating' | 'idle' | 'active' | 'validating' | 'closing';

/** The pool's record of one connection: state, counters and its place in its node's lists. */
export class PooledConnection<C, N extends PoolNode> {
  connection: C | undefined = undefined;
  state: ConnectionState = 'creating';
  createdAt = 0;
  /** When maxLifetimeMs (less jitter) runs out; Infinity when it never does. */
  expiresAt = Infinity;
  /** When the connection last had no lease (or was created). */
  idleSince = 0;
  lastValidatedAt = 0;
  leases = 0;
  maxLeases: number;
  /** Leases served, the current ones included. */
  useCount = 0;
  /** Retired: never handed to a new lease, destroyed when its last lease ends. */
  isRetired = false;
  retiredBecause: unknown = undefined;
  /** The waiter a create is under way for; it fails over or gets CREATE_FAILED if the create fails. */
  sponsor: Waiter<C, N> | undefined = undefined;
  /**
   * Further waiters counting on this create, or on this validation for a waiter: a multiplexed
   * connection serves several.
   */
  riders: Waiter<C, N>[] | undefined = undefined;
  /** Its permit, when the pool has `permits` (permits.ts). */
  permit: Permit | undefined = undefined;

  // Links of the node's list of connections with spare lease capacity.
  isAvailable = false;
  prev: PooledConnection<C, N> | undefined = undefined;
  next: PooledConnection<C, N> | undefined = undefined;

  constructor(
    readonly node: NodeState<C, N>,
    maxLeases: number,
  ) {
    this.maxLeases = maxLeases;
  }

  get hasSpareCapacity(): boolean {
    return this.leases < this.maxLeases;
  }
}

/** A doubly linked list of connections: O(1) push, pop at either end and removal anywhere. */
export class ConnectionList<C, N extends PoolNode> {
  head: PooledConnection<C, N> | undefined = undefined;
  tail: PooledConnection<C, N> | undefined = undefined;
  size = 0;

  push(connection: PooledConnection<C, N>): void {
    connection.isAvailable = true;
    connection.prev = this.tail;
    connection.next = undefined;
    if (this.tail) this.tail.next = connection;
    else this.head = connection;
    this.tail = connection;
    this.size++;
  }

  remove(connection: PooledConnection<C, N>): void {
    if (!connection.isAvailable) return;
    connection.isAvailable = false;
    if (connection.prev) connection.prev.next = connection.next;
    else this.head = connection.next;
    if (connection.next) connection.next.prev = connection.prev;
    else this.tail = connection.prev;
    connection.prev = undefined;
    connection.next = undefined;
    this.size--;
  }
}
