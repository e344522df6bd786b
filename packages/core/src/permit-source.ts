// The contract of `PoolOptions.permits`: what a permit source (e.g. @pool/fleet's Redis
// semaphore) hands out. Plain types at the bottom of core; the engine's side is permits.ts.

/**
 * The right to hold one connection to a node, handed out by a {@link PermitSource} (for example
 * `@pool/fleet`'s Redis semaphore, shared by every replica of a service).
 */
export interface Permit {
  /**
   * Gives the permit back. The pool calls it exactly once: after the connection's destroy has
   * settled, or when its create failed for good. A throw or rejection is reported as an
   * `'error'` event (`during: 'permit'`), never thrown.
   */
  release(): void | Promise<void>;
  /**
   * Aborted when the permit is lost (its lease expired, e.g. because this process stalled
   * past it): the pool then retires the connection at once when idle, else when its last
   * lease ends (destroy reason `'broken'`, the error a PoolError naming the node).
   */
  readonly lost: AbortSignal;
  /**
   * Optional. Asked when the connection's last lease ends: true retires the connection (destroy
   * reason `'lifetime'`) so its permit goes back to whoever else waits for one. This is how a
   * source makes permits cycle fairly between processes; without it a permit is kept until
   * the connection would be destroyed anyway.
   */
  shouldReturn?(): boolean;
  /**
   * Optional. The pool registers one listener when the permit is granted; the source calls it
   * whenever someone else waits for a permit of this node. An idle connection holding the
   * permit is then closed at once (destroy reason `'idle'`), so idle connections never sit on
   * permits others need; a leased one is left to `shouldReturn` at its release.
   */
  onWanted?(listener: () => void): void;
}

export interface PermitRequest {
  /**
   * Aborted when the pool no longer wants the permit: the acquire the create was started for
   * reached its deadline (`acquireTimeoutMs` or the call's `timeoutMs`), or the pool or node
   * winds down. Reject then; a permit that arrives after the abort is released by the pool.
   */
  signal: AbortSignal;
}

/**
 * Hands out one permit per connection: the pool asks before each create starts and gives the
 * permit back once the connection's destroy has settled. Waiting for a permit counts against
 * the acquire's timeout; `createTimeoutMs` starts once the permit is held.
 */
export interface PermitSource<N extends { id: string } = { id: string }> {
  acquire(node: N, request: PermitRequest): Promise<Permit>;
}
