import type pg from 'pg';
import { invalid } from './options.js';

/**
 * `pgbouncer` option: the pool talks to PgBouncer in transaction mode, where consecutive
 * transactions of one client connection run on different server sessions. What only a session
 * can keep then cannot work, and the pool refuses it up front instead of failing later.
 */
export type PgBouncerOption = 'transaction' | PgBouncerSettings;

export interface PgBouncerSettings {
  poolMode: 'transaction';
  /**
   * Named prepared statements (`query({ name, text })`). PgBouncer tracks them only from 1.21 with
   * `max_prepared_statements` > 0: set true then. Default false: `pool.query` refuses a named one.
   */
  preparedStatements?: boolean;
}

export interface ResolvedPgBouncer {
  preparedStatements: boolean;
}

/**
 * Settings pg sends as startup parameters, which PgBouncer refuses ("unsupported startup
 * parameter"); listed in `ignore_startup_parameters` they are dropped instead, never applied.
 */
const STARTUP_ONLY_SETTINGS = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'options', 'replication'] as const;

interface Given {
  statementTimeoutMs?: number;
  resetOnRelease?: string;
  client?: object;
  [name: string]: unknown;
}

/** Validates `pgbouncer` and refuses the combinations transaction pooling cannot honour. */
export function resolvePgBouncer(value: unknown, options: Given, base: pg.ClientConfig): ResolvedPgBouncer | undefined {
  if (value === undefined || value === false) return undefined;
  const settings: PgBouncerSettings | undefined =
    value === 'transaction' ? { poolMode: 'transaction' } : isSettings(value) ? value : undefined;
  if (settings === undefined) {
    throw invalid('pgbouncer', value, "'transaction' or { poolMode: 'transaction', preparedStatements?: boolean }");
  }
  const preparedStatements = settings.preparedStatements ?? false;
  if (typeof preparedStatements !== 'boolean') throw invalid('pgbouncer.preparedStatements', preparedStatements, 'a boolean');
  if (options.resetOnRelease === 'discard') {
    throw invalid(
      'resetOnRelease',
      'discard',
      "'rollback' behind PgBouncer in transaction mode: sessions are shared between clients, so there is no session of yours to DISCARD",
    );
  }
  for (const setting of STARTUP_ONLY_SETTINGS) {
    const current = (base as Record<string, unknown>)[setting];
    if (current === undefined || current === false || current === 0) continue;
    const name = setting === 'statement_timeout' && options.statementTimeoutMs ? 'statementTimeoutMs' : setting in options ? setting : `client.${setting}`;
    throw invalid(
      name,
      current,
      'unset behind PgBouncer in transaction mode: pg sends it as a startup parameter, which PgBouncer refuses ' +
        `(or drops, with ignore_startup_parameters). Set it on the server instead (ALTER ROLE ... SET ${setting} = ...)` +
        (setting === 'statement_timeout' ? ', or use queryTimeoutMs for a client-side deadline' : ''),
    );
  }
  return { preparedStatements };
}

function isSettings(value: unknown): value is PgBouncerSettings {
  return value !== null && typeof value === 'object' && (value as { poolMode?: unknown }).poolMode === 'transaction';
}

/** A named statement through transaction pooling without PgBouncer's tracking: refused before it is sent. */
export function checkStatementName(text: string | pg.QueryConfig, bouncer: ResolvedPgBouncer | undefined): void {
  if (bouncer === undefined || bouncer.preparedStatements || typeof text === 'string' || text.name === undefined) return;
  throw invalid(
    'name',
    text.name,
    'unset behind PgBouncer in transaction mode: a named prepared statement lives in one server session, and the next ' +
      'transaction may run on another. Omit name, or (PgBouncer >= 1.21 with max_prepared_statements > 0) set ' +
      'pgbouncer: { poolMode: "transaction", preparedStatements: true }',
  );
}
