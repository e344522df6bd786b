import {
  acquireOptionsOf, checkCallTimeout, createPool, holdProcess, holdWhile, isPoolError, type AcquireOptions, type Lease, type Pool, type PoolError,
} from '@pool/core';
import type pg from 'pg';
import { createPgFactory, explainUnsent, isBrokenClient, noteError, type PgFactoryHooks } from './factory.js';
import { invalid, resolveNode, resolvePgOptions, type PgNode, type PgNodeOptions, type PgPoolOptions } from './options.js';
import { acquireAndQuery, acquireQueryable, MAX_BROKEN_ON_ARRIVAL, runQuery, type QueryRunContext } from './query.js';
import { createSessionReset, PgLease } from './reset.js';
import { collectSecrets, redactError } from './redact.js';
import { checkStatementName } from './pgbouncer.js';
import { NodeRouter } from './routing.js';
import { beginStatement, BROKEN_BEFORE_WORK, runTransaction, type PgTransactionOptions } from './transaction.js';

/** Where and how one acquire runs: core's acquire options plus replica routing. */
export interface PgAcquireOptions {
  /** Run on this node only (no routing, no fallback). */
  node?: string;
  /** Counts against this partition's cap. */
  partition?: string;
  priority?: number;
  affinityKey?: string;
  /** Aborts the wait for a connection and, for `query`, the query itself (a cancel request is sent). */
  signal?: AbortSignal;
  /** Overrides `acquireTimeoutMs` for this call. */
  acquireTimeoutMs?: number;
  /** Prefer replicas, fall back to a primary when none can serve. Default false (primary). */
  readOnly?: boolean;
}

/** Options of `acquire()` and `use()`: the acquire options, and core's `timeoutMs`. */
export interface PgLeaseOptions extends PgAcquireOptions {
  /** How long to wait for a connection (`@pool/core`'s name); wins over `acquireTimeoutMs`. */
  timeoutMs?: number;
}

export interface PgQueryOptions extends PgAcquireOptions {
  /** Overrides the pool's `queryTimeoutMs` for this call; 0 or `Infinity` = none. */
  queryTimeoutMs?: number;
}

export type PgQueryValues = readonly unknown[];

/** A `@pool/core` pool of pg clients, with pg-flavoured helpers. */
export interface PgPool extends Omit<Pool<pg.Client, PgNode>, 'acquire' | 'use' | 'addNode'> {
  /** Runs one statement on a pooled connection and returns pg's result (`rows`, `rowCount`, `fields`...). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: PgQueryValues,
    options?: PgQueryOptions,
  ): Promise<pg.QueryResult<R>>;
  /**
   * BEGIN, `fn(client)`, COMMIT; ROLLBACK when `fn` throws, and the connection is destroyed when
   * the ROLLBACK itself fails. Rejects (SQLSTATE 25P02) when the server turned COMMIT into a rollback.
   */
  transaction<T>(fn: (client: pg.Client) => Promise<T> | T, options?: PgTransactionOptions): Promise<T>;
  /** A lease on one client, for full control. Release it (or `await using`). */
  acquire(options?: PgLeaseOptions): Promise<Lease<pg.Client, PgNode>>;
  use<R>(fn: (client: pg.Client, lease: Lease<pg.Client, PgNode>) => Promise<R> | R, options?: PgLeaseOptions): Promise<R>;
  /** Adds a server at run time; the same fields as an entry of `nodes`. */
  addNode(node: PgNodeOptions): void;
}

/**
 * Core's acquire options for a call, its timeouts checked first (NaN, strings and negatives are
 * `INVALID_OPTIONS` naming the option). `timeoutMs` is only for acquire() and use(): `query` and
 * `transaction` refuse it, since there it would read as a bound on the whole call.
 */
export function toAcquireOptions(options: PgLeaseOptions, allowTimeoutMs: boolean): AcquireOptions {
  checkCallTimeout('acquireTimeoutMs', options.acquireTimeoutMs);
  const acquire = acquireOptionsOf(options);
  if (options.timeoutMs !== undefined) {
    if (!allowTimeoutMs) {
      throw invalid('timeoutMs', options.timeoutMs, 'unset here: acquireTimeoutMs bounds the wait for a connection, queryTimeoutMs the statement');
    }
    const timeoutMs = checkCallTimeout('timeoutMs', options.timeoutMs);
    if (timeoutMs !== undefined) acquire.timeoutMs = timeoutMs;
  }
  return acquire;
}

/**
 * Creates a PostgreSQL pool: pg clients managed by `@pool/core` (limits, queueing, validation,
 * lifetimes, circuit breaking, metrics), with `query`, `transaction` and primary/replica routing.
 */
export function createPgPool(options: PgPoolOptions): PgPool {
  return createPgPoolInternal(options, {}).pool;
}

/** @internal What the pg.Pool facade needs beyond the public pool. */
export interface PgPoolInternals {
  pool: PgPool;
  /** A core lease, to be ended through runLeaseQuery. */
  acquireRaw(): Promise<Lease<pg.Client, PgNode>>;
  /** Core's acquire as is (one promise): the caller checks for a client broken on arrival. */
  acquireCore(): Promise<Lease<pg.Client, PgNode>>;
  runLeaseQuery(
    lease: Lease<pg.Client, PgNode>,
    text: string | pg.QueryConfig,
    values: readonly unknown[] | undefined,
    timeoutMs: number,
  ): Promise<pg.QueryResult>;
  queryTimeoutMs: number;
}

/** @internal The facade passes hooks to see clients come and go. */
export function createPgPoolInternal(options: PgPoolOptions, hooks: PgFactoryHooks): PgPoolInternals {
  const resolved = resolvePgOptions(options);
  const { clientConfigs, secrets } = resolved;
  const factory = createPgFactory({ clientConfigs, secrets, hooks });
  const pool = createPool<pg.Client, PgNode>({ ...resolved.poolOptions, factory, nodes: resolved.nodes });
  const coreAcquire = pool.acquire.bind(pool);
  const coreAddNode = pool.addNode.bind(pool);
  const breaker = resolved.poolOptions.circuitBreaker;
  const clock = resolved.poolOptions.clock;
  const router = new NodeRouter(
    coreAcquire,
    pool,
    resolved.nodes,
    breaker === false ? Infinity : (breaker?.cooldownMs ?? 10_000),
    clock ? () => clock.now() : Date.now,
  );
  // Surfaces through the pool's 'error' event, redacted.
  const reportError = (error: unknown, during: string) => pool.reportError(redactError(error, secrets), during);
  const context: QueryRunContext = {
    secrets,
    cancelTimeoutMs: resolved.cancelTimeoutMs,
    reset: createSessionReset(resolved.resetOnRelease, resolved.resetTimeoutMs),
    onBackgroundError: (error) => reportError(error, 'query cleanup'),
    onResetError: (error) => reportError(error, 'reset'),
  };
  const wrap = (lease: Lease<pg.Client, PgNode>): Lease<pg.Client, PgNode> =>
    new PgLease(lease, context.reset, context.onResetError);
  // A removed node's settings go with it, so its id may be added again later.
  pool.on('nodeRemoved', ({ node }) => clientConfigs.delete(node));
  const defaultQueryTimeoutMs = resolved.queryTimeoutMs;
  const bouncer = resolved.pgbouncer;
  const baseClientConfig = clientConfigs.values().next().value as pg.ClientConfig;

  // Core's lease, ended by this package's own paths (endLease / releaseLease). Acquire errors need no
  // scrubbing: core builds them from factory errors, which create() scrubbed.
  const acquireRaw = (acquireOptions?: PgLeaseOptions, allowTimeoutMs = false): Promise<Lease<pg.Client, PgNode>> =>
    acquireQueryable(() =>
      acquireOptions === undefined
        ? router.acquire(undefined, false)
        : router.acquire(toAcquireOptions(acquireOptions, allowTimeoutMs), acquireOptions.readOnly === true));
  // The lease users hold: its release() resets the session first.
  const acquireWrapped = (acquireOptions?: PgLeaseOptions, allowTimeoutMs = false): Promise<Lease<pg.Client, PgNode>> =>
    acquireRaw(acquireOptions, allowTimeoutMs).then(wrap);
  const plainAcquire = () => router.acquire(undefined, false);

  // Every call the user awaits holds the process open until it settles (DESIGN "Process lifetime"):
  // core holds while an acquire waits; these hold across the work on the connection too.
  const extensions = {
    acquire: (acquireOptions?: PgLeaseOptions) => holdWhile(acquireWrapped(acquireOptions, true)),
    query<R extends pg.QueryResultRow = pg.QueryResultRow>(
      text: string | pg.QueryConfig,
      values?: PgQueryValues,
      queryOptions?: PgQueryOptions,
    ): Promise<pg.QueryResult<R>> {
      const misuse = queryMisuse(text, values, queryOptions);
      if (misuse !== undefined) return Promise.reject(misuse);
      // Not async: the hot path returns its one promise directly, without an extra adoption.
      if (bouncer !== undefined) {
        try {
          checkStatementName(text, bouncer);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      if (queryOptions === undefined && defaultQueryTimeoutMs === 0) {
        return acquireAndQuery(plainAcquire, text, values, context) as Promise<pg.QueryResult<R>>;
      }
      let timeoutMs: number;
      try {
        timeoutMs = checkCallTimeout('queryTimeoutMs', queryOptions?.queryTimeoutMs) ?? defaultQueryTimeoutMs;
      } catch (error) {
        return Promise.reject(error);
      }
      const release = holdProcess();
      const result = acquireRaw(queryOptions).then((lease) => runQuery(lease, text, values, context, queryOptions?.signal, timeoutMs));
      result.then(release, release);
      return result as Promise<pg.QueryResult<R>>;
    },
    transaction<T>(fn: (client: pg.Client) => Promise<T> | T, transactionOptions?: PgTransactionOptions): Promise<T> {
      return holdWhile(transact(fn, transactionOptions));
    },
    use<R>(fn: (client: pg.Client, lease: Lease<pg.Client, PgNode>) => Promise<R> | R, useOptions?: PgLeaseOptions): Promise<R> {
      return holdWhile(useLease(fn, useOptions));
    },
    addNode(nodeOptions: PgNodeOptions): void {
      const { node, config } = resolveNode(nodeOptions, options, stripConnection(baseClientConfig), '');
      if (clientConfigs.has(node.id)) throw invalid('node.id', node.id, 'unique: the pool already has a node with this id');
      clientConfigs.set(node.id, config);
      for (const secret of collectSecrets(config)) if (!secrets.includes(secret)) secrets.push(secret);
      secrets.sort((a, b) => b.length - a.length);
      coreAddNode(node);
      router.add(node);
    },
  };

  async function transact<T>(fn: (client: pg.Client) => Promise<T> | T, transactionOptions?: PgTransactionOptions): Promise<T> {
    const begin = beginStatement(transactionOptions);
    for (let attempt = 0; ; attempt++) {
      const lease = await acquireWrapped(transactionOptions);
      const result = await runTransaction(lease, fn, begin, secrets, attempt < MAX_BROKEN_ON_ARRIVAL);
      if (result !== BROKEN_BEFORE_WORK) return result;
    }
  }

  async function useLease<R>(
    fn: (client: pg.Client, lease: Lease<pg.Client, PgNode>) => Promise<R> | R,
    useOptions?: PgLeaseOptions,
  ): Promise<R> {
    const lease = await acquireWrapped(useOptions, true);
    let result: R;
    try {
      result = await fn(lease.connection, lease);
    } catch (error) {
      const ending = noteError(lease.connection, error) ? lease.destroy(error) : lease.release();
      // fn may have ended the lease itself: nothing more to do then.
      await ending.catch(() => undefined);
      throw redactError(explainUnsent(lease.connection, error), secrets);
    }
    await (isBrokenClient(lease.connection) ? lease.destroy() : lease.release()).catch((error: unknown) => {
      if (!isPoolError(error, 'LEASE_RELEASED')) throw error;
    });
    return result;
  }

  return {
    pool: Object.assign(pool, extensions) as unknown as PgPool,
    acquireRaw: () => acquireQueryable(plainAcquire),
    acquireCore: plainAcquire,
    runLeaseQuery: (lease, text, values, timeoutMs) => runQuery(lease, text, values, context, undefined, timeoutMs),
    queryTimeoutMs: defaultQueryTimeoutMs,
  };
}

/**
 * pg.Client's other call shapes, refused at once instead of never settling: a callback (this query
 * returns a promise) and a submittable (pg-cursor, pg-query-stream: it streams on one client for as
 * long as the caller reads, so it needs a client of its own).
 */
function queryMisuse(text: unknown, values: unknown, options: unknown): PoolError | undefined {
  if (typeof values === 'function' || typeof options === 'function') {
    return invalid('values', values, 'an array of parameters: pool.query returns a promise and takes no callback');
  }
  if (text !== null && typeof text === 'object' && typeof (text as { submit?: unknown }).submit === 'function') {
    return invalid(
      'text',
      'a submittable',
      'SQL text or a query config; a cursor or stream (pg-cursor, pg-query-stream) needs its own client: pool.use((client) => ...) or the pg.Pool facade',
    );
  }
  return undefined;
}

function stripConnection(config: pg.ClientConfig): pg.ClientConfig {
  const { connectionString: _c, host: _h, port: _p, user: _u, password: _pw, database: _d, ssl: _s, ...rest } = config;
  return rest;
}
