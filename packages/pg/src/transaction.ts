import type { Lease } from '@pool/core';
import type pg from 'pg';
import { destroySocket, explainUnsent, isBrokenClient, noteError, transactionStatus } from './factory.js';
import { invalid, type PgNode } from './options.js';
import type { PgAcquireOptions } from './pool.js';
import { redactError } from './redact.js';

export type PgIsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

export interface PgTransactionOptions extends PgAcquireOptions {
  /** Default: the server's `default_transaction_isolation` (read committed). */
  isolation?: PgIsolationLevel;
  /** `BEGIN ... READ ONLY`, and the work prefers a replica. Default false. */
  readOnly?: boolean;
  /** `DEFERRABLE` (only meaningful with serializable + readOnly). Default false. */
  deferrable?: boolean;
}

const ISOLATION_LEVELS: readonly string[] = ['read uncommitted', 'read committed', 'repeatable read', 'serializable'];

export function beginStatement(options: PgTransactionOptions | undefined): string {
  if (options === undefined) return 'BEGIN';
  let statement = 'BEGIN';
  if (options.isolation !== undefined) {
    if (!ISOLATION_LEVELS.includes(options.isolation)) {
      throw invalid('isolation', options.isolation, `one of ${ISOLATION_LEVELS.map((level) => `'${level}'`).join(', ')}`);
    }
    statement += ` ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
  }
  if (options.readOnly === true) statement += ' READ ONLY';
  if (options.deferrable === true) statement += ' DEFERRABLE';
  return statement;
}

/** The server answered COMMIT with ROLLBACK: an earlier statement failed and `fn` swallowed it. */
function rolledBackError(): Error {
  return Object.assign(
    new Error('COMMIT was turned into ROLLBACK by the server: a statement inside the transaction failed'),
    { code: '25P02' },
  );
}

/** BEGIN was answered, then the connection broke before `fn` ran: none of the caller's work was sent. */
export const BROKEN_BEFORE_WORK: unique symbol = Symbol('broken before work');

/**
 * BEGIN, `fn`, COMMIT (ROLLBACK on failure). With `mayStartOver`, a connection that broke right
 * after BEGIN's answer (its FATAL came in the same read) returns {@link BROKEN_BEFORE_WORK}, so the
 * caller starts over on another connection instead of sending `fn`'s first statement to a dead one.
 */
export async function runTransaction<T>(
  lease: Lease<pg.Client, PgNode>,
  fn: (client: pg.Client) => Promise<T> | T,
  begin: string,
  secrets: readonly string[],
  mayStartOver = false,
): Promise<T | typeof BROKEN_BEFORE_WORK> {
  const client = lease.connection;
  try {
    await client.query(begin);
  } catch (error) {
    noteError(client, error);
    await endAfterFailure(lease);
    throw redactError(error, secrets);
  }
  if (mayStartOver && isBrokenClient(client)) {
    await endAfterFailure(lease);
    return BROKEN_BEFORE_WORK;
  }
  let result: T;
  try {
    result = await fn(client);
    const commit = await client.query('COMMIT');
    if (commit.command === 'ROLLBACK') throw rolledBackError();
  } catch (error) {
    noteError(client, error);
    await rollbackAfterFailure(lease);
    throw redactError(explainUnsent(client, error), secrets);
  }
  await lease.release();
  return result;
}

async function rollbackAfterFailure(lease: Lease<pg.Client, PgNode>): Promise<void> {
  const client = lease.connection;
  if (!isBrokenClient(client) && transactionStatus(client) !== 'I') {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The session is in an unknown state: it must never serve anyone again.
      destroySocket(client);
      await lease.destroy(rollbackError).catch(() => undefined);
      return;
    }
  }
  await endAfterFailure(lease);
}

async function endAfterFailure(lease: Lease<pg.Client, PgNode>): Promise<void> {
  const ending = isBrokenClient(lease.connection) ? lease.destroy() : lease.release();
  await ending.catch(() => undefined);
}
