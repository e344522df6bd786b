import { PoolError, type Lease } from '@pool/core';
import type pg from 'pg';
import { destroySocket, isBrokenClient, transactionStatus } from './factory.js';
import type { PgNode } from './options.js';

/**
 * Puts a released session back in a reusable state, or says there is nothing to do (`undefined`:
 * the common case, no round trip, no promise). Rejects, after destroying the socket, when the
 * session could not be reset.
 */
export type SessionReset = (client: pg.Client) => Promise<void> | undefined;

export function createSessionReset(mode: 'rollback' | 'discard', timeoutMs: number): SessionReset {
  const isDiscard = mode === 'discard';
  const rollback = { text: 'ROLLBACK', query_timeout: timeoutMs || undefined } as pg.QueryConfig;
  const discard = { text: 'DISCARD ALL', query_timeout: timeoutMs || undefined } as pg.QueryConfig;
  return (client) => {
    // From the server's last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' failed transaction.
    const status = transactionStatus(client);
    if (status === 'I' && !isDiscard) return undefined;
    return resetSession(client, status !== 'I', isDiscard, rollback, discard);
  };
}

async function resetSession(
  client: pg.Client,
  needsRollback: boolean,
  isDiscard: boolean,
  rollback: pg.QueryConfig,
  discard: pg.QueryConfig,
): Promise<void> {
  try {
    if (needsRollback) await client.query(rollback);
    if (isDiscard) {
      await client.query(discard);
      // The server forgot every prepared statement; pg's client-side cache must forget them too, or
      // the next named query skips Parse and fails with "prepared statement does not exist".
      const connection = (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection;
      connection.parsedStatements = {};
    }
  } catch (error) {
    // A timed-out or failed reset leaves the session in an unknown state: it must not be reused.
    destroySocket(client);
    throw error;
  }
  const status = transactionStatus(client);
  if (status !== 'I' && status !== null) {
    destroySocket(client);
    throw new Error('connection still inside a transaction after reset');
  }
}

/**
 * Ends a core lease the way every path of this package does: destroy a broken connection, reset
 * the session when needed, then release. When nothing needs resetting, core's release runs at once,
 * so the connection goes straight to the next waiter.
 */
export function releaseLease(
  lease: Lease<pg.Client, PgNode>,
  reset: SessionReset,
  onResetError: (error: unknown) => void,
): Promise<void> {
  const client = lease.connection;
  if (isBrokenClient(client)) return lease.destroy();
  let pending: Promise<void> | undefined;
  try {
    pending = reset(client);
  } catch (error) {
    onResetError(error);
    return lease.destroy(error);
  }
  if (pending === undefined) return lease.release();
  return pending.then(
    () => lease.release(),
    (error: unknown) => {
      onResetError(error);
      return lease.destroy(error);
    },
  );
}

/**
 * The lease handed to users (`acquire`, `use`, `transaction`, the facade's `connect`): core's lease
 * whose `release()` resets the session first.
 */
export class PgLease implements Lease<pg.Client, PgNode> {
  private isEnded = false;

  constructor(
    private readonly inner: Lease<pg.Client, PgNode>,
    private readonly reset: SessionReset,
    private readonly onResetError: (error: unknown) => void,
  ) {}

  get connection(): pg.Client {
    return this.inner.connection;
  }

  get node(): PgNode {
    return this.inner.node;
  }

  get createdAt(): number {
    return this.inner.createdAt;
  }

  get acquiredAt(): number {
    return this.inner.acquiredAt;
  }

  get useCount(): number {
    return this.inner.useCount;
  }

  release(): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    this.isEnded = true;
    return releaseLease(this.inner, this.reset, this.onResetError);
  }

  destroy(reason?: unknown): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    this.isEnded = true;
    return this.inner.destroy(reason);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.isEnded ? Promise.resolve() : this.release();
  }
}

function alreadyEnded(): PoolError {
  return new PoolError('LEASE_RELEASED', 'This lease was already released or destroyed');
}
