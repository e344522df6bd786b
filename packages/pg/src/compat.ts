import { EventEmitter } from 'node:events';
import type { Lease } from '@pool/core';
import type pg from 'pg';
import { isBrokenClient } from './factory.js';
import { invalid, type PgNode, type PgPoolOptions } from './options.js';
import { createPgPoolInternal, type PgPool, type PgPoolInternals } from './pool.js';

/** pg-pool's "no timeout": setTimeout's largest delay (~24.8 days). */
const NO_TIMEOUT_MS = 2_147_483_647;

type QueryCallback = (error: Error | undefined, result: pg.QueryResult | undefined) => void;
type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: Error | boolean) => void) => void;

/** pg.PoolConfig plus this pool's own options (`resetOnRelease`, `partitions`, `nodes`...). */
export type PgPoolCompatConfig = pg.PoolConfig & Partial<Omit<PgPoolOptions, 'ssl' | 'password'>>;

/** pg-pool settings this facade translates; everything else not in OWN_OPTION_KEYS goes to pg.Client. */
const PG_POOL_KEYS = new Set([
  'max', 'min', 'idleTimeoutMillis', 'connectionTimeoutMillis', 'maxUses', 'maxLifetimeSeconds',
  'allowExitOnIdle', 'log', 'Promise', 'Client', 'statement_timeout', 'query_timeout', 'application_name',
  'connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'keepAlive',
]);

/** This pool's own options, accepted as is next to pg's (they win over the translated ones). */
const OWN_OPTION_KEYS = new Set([
  'nodes', 'minIdlePerNode', 'maxPerNode', 'maxTotal', 'maxLeasesPerConnection', 'maxWaiting', 'acquireTimeoutMs',
  'createTimeoutMs', 'idleTimeoutMs', 'maxLifetimeMs', 'lifetimeJitterMs', 'validateOnAcquire', 'validateOnRelease',
  'healthCheckIntervalMs', 'idleOrder', 'partitions', 'balancer', 'createRetry', 'circuitBreaker', 'leakDetectionMs',
  'clock', 'priorityAgingMs', 'statementTimeoutMs', 'queryTimeoutMs', 'cancelTimeoutMs', 'resetOnRelease', 'resetTimeoutMs',
  'applicationName', 'client',
]);

function toPoolOptions(config: PgPoolCompatConfig): PgPoolOptions {
  if (config === null || typeof config !== 'object') throw invalid('config', config, 'an object (pg.PoolConfig)');
  if (config.Client !== undefined) throw invalid('Client', config.Client, 'left unset: connections are always pg.Client');
  const { max, min, idleTimeoutMillis, connectionTimeoutMillis, maxUses, maxLifetimeSeconds } = config;
  const options: Record<string, unknown> = {};
  for (const key of ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'keepAlive'] as const) {
    if (config[key] !== undefined) options[key] = config[key];
  }
  // pg-pool's defaults: 10 clients, idle ones closed after 10 s, wait for a client forever.
  options['maxPerNode'] = max ?? 10;
  options['minIdlePerNode'] = min ?? 0;
  options['idleTimeoutMs'] = idleTimeoutMillis ?? 10_000;
  const connectTimeout = connectionTimeoutMillis && connectionTimeoutMillis > 0 ? connectionTimeoutMillis : NO_TIMEOUT_MS;
  options['acquireTimeoutMs'] = connectTimeout;
  options['createTimeoutMs'] = Math.min(connectTimeout, 30_000);
  if (maxUses !== undefined && maxUses > 0 && Number.isFinite(maxUses)) options['maxUses'] = maxUses;
  options['maxLifetimeMs'] = maxLifetimeSeconds ? maxLifetimeSeconds * 1_000 : 0;
  if (typeof config.statement_timeout === 'number') options['statementTimeoutMs'] = config.statement_timeout;
  if (typeof config.query_timeout === 'number') options['queryTimeoutMs'] = config.query_timeout;
  if (config.application_name !== undefined) options['applicationName'] = config.application_name;
  const clientExtras: Record<string, unknown> = { ...(config.client ?? {}) };
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || PG_POOL_KEYS.has(key)) continue;
    if (OWN_OPTION_KEYS.has(key)) {
      if (key !== 'client') options[key] = value;
    } else {
      clientExtras[key] = value;
    }
  }
  if (Object.keys(clientExtras).length > 0) options['client'] = clientExtras;
  return options as PgPoolOptions;
}

const USE_AFTER_END = 'Cannot use a pool after calling end on the pool';

/**
 * A drop-in for `pg.Pool`: `query`, `connect()` with `client.release(err?)`, `end()`, the counters
 * and pg-pool's events (`connect`, `acquire`, `release`, `remove`, `error`), on top of `@pool/core`.
 * `import { Pool } from '@pool/pg/compat'` replaces `import { Pool } from 'pg'`.
 */
export class PgPoolCompat extends EventEmitter {
  /** The underlying `@pool/pg` pool: stats(), health(), events, partitions... */
  readonly pool: PgPool;
  readonly options: PgPoolCompatConfig;
  private readonly internals: PgPoolInternals;
  private readonly leases = new Map<pg.Client, Lease<pg.Client, PgNode>>();
  private isEnding = false;
  private isEnded = false;

  constructor(config: PgPoolCompatConfig = {}) {
    super();
    this.options = { ...config };
    this.internals = createPgPoolInternal(toPoolOptions(config), {
      onConnect: (client) => this.emit('connect', client),
      onRemove: (client) => this.emit('remove', client),
      // pg-pool crashes the process when nobody listens to 'error'; this facade never does.
      // Like pg-pool, only errors of clients not checked out with connect(): those go to the holder.
      onClientError: (error, client) => {
        if (!this.leases.has(client) && this.listenerCount('error') > 0) this.emit('error', error, client);
      },
    });
    this.pool = this.internals.pool;
  }

  get totalCount(): number {
    return this.pool.stats().total;
  }

  get idleCount(): number {
    return this.pool.stats().idle;
  }

  get waitingCount(): number {
    return this.pool.stats().waiting;
  }

  /** pg-pool counts clients past maxLifetimeSeconds still checked out; core retires them on release. Always 0. */
  get expiredCount(): number {
    return 0;
  }

  get ending(): boolean {
    return this.isEnding;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  connect(): Promise<pg.PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const promise = this.checkout();
    if (!callback) return promise;
    promise.then(
      (client) => callback(undefined, client, client.release.bind(client)),
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>>;
  query(text: string | pg.QueryConfig, callback: QueryCallback): void;
  query(text: string | pg.QueryConfig, values: unknown[] | undefined, callback: QueryCallback): void;
  query(
    text: string | pg.QueryConfig,
    valuesOrCallback?: unknown[] | QueryCallback,
    callback?: QueryCallback,
  ): Promise<pg.QueryResult> | void {
    const done = typeof valuesOrCallback === 'function' ? valuesOrCallback : callback;
    const values = typeof valuesOrCallback === 'function' ? undefined : valuesOrCallback;
    const promise = this.runQuery(text, values);
    if (!done) return promise;
    promise.then(
      (result) => done(undefined, result),
      (error: Error) => done(error, undefined),
    );
  }

  end(): Promise<void>;
  end(callback: (error?: Error) => void): void;
  end(callback?: (error?: Error) => void): Promise<void> | void {
    let promise: Promise<void>;
    if (this.isEnding) {
      promise = Promise.reject(new Error('Called end on pool more than once'));
    } else {
      this.isEnding = true;
      promise = this.pool.drain().then(() => {
        this.isEnded = true;
        this.emit('end');
      });
    }
    if (!callback) return promise;
    promise.then(() => callback(), (error: Error) => callback(error));
  }

  private async checkout(): Promise<pg.PoolClient> {
    if (this.isEnding) throw new Error(USE_AFTER_END);
    const lease = await this.pool.acquire();
    const client = lease.connection;
    this.leases.set(client, lease);
    const poolClient = client as pg.Client & { release?: (error?: unknown) => void };
    poolClient.release = (error?: unknown) => this.checkin(client, error);
    this.emit('acquire', client);
    return poolClient as unknown as pg.PoolClient;
  }

  /** pg-pool's `client.release(err?)`: a truthy argument destroys the client instead of reusing it. */
  private checkin(client: pg.Client, error?: unknown): void {
    const lease = this.leases.get(client);
    if (!lease) throw new Error('Release called on client which has already been released to the pool.');
    this.leases.delete(client);
    this.emit('release', error instanceof Error ? error : undefined, client);
    const ending = error || isBrokenClient(client) ? lease.destroy(error) : lease.release();
    ending.catch(() => undefined);
  }

  private async runQuery(text: string | pg.QueryConfig, values: unknown[] | undefined): Promise<pg.QueryResult> {
    if (this.isEnding) throw new Error(USE_AFTER_END);
    const lease = await this.internals.acquireRaw();
    const client = lease.connection;
    this.emit('acquire', client);
    try {
      const result = await this.internals.runLeaseQuery(lease, text, values, this.internals.queryTimeoutMs);
      this.emit('release', undefined, client);
      return result;
    } catch (error) {
      this.emit('release', error, client);
      throw error;
    }
  }
}

export { PgPoolCompat as Pool };
