import { rejectUnknownOptions } from '@pool/core';
import type pg from 'pg';
import { invalid, type PgPoolOptions } from '../options.js';

/** setTimeout's largest delay (~24.8 days): pg-pool's "no timeout". */
export const NO_TIMEOUT_MS = 2_147_483_647;

/**
 * The improvements `@pool/pg` makes by default, each off in the facade unless switched on here:
 * with none of them set, the facade behaves as pg.Pool.
 */
export interface PgPoolCompatSwitches {
  /**
   * Reset a released client before reuse. Default off (pg.Pool hands the next user the session as
   * left). `'rollback'`: ROLLBACK a transaction left open or failed. `'discard'`: also `DISCARD ALL`
   * (settings, temp tables, prepared statements, LISTEN and session advisory locks).
   */
  resetOnRelease?: 'rollback' | 'discard';
  /** Bound on the reset statements. Default 5_000 ms. */
  resetTimeoutMs?: number;
  /** `SELECT 1` before handing out a client idle that long (or always: true). Default false. */
  validateOnAcquire?: PgPoolOptions['validateOnAcquire'];
  /** `SELECT 1` on release. Default false. */
  validateOnRelease?: boolean;
  /** Validates idle clients in the background every this many ms. Default 0 = never. */
  healthCheckIntervalMs?: number;
  /** Retries a failed connect with backoff. Default `{ attempts: 1 }` = no retry, as pg.Pool. */
  createRetry?: PgPoolOptions['createRetry'];
  /** Fails fast while the server keeps refusing connects. Default false, as pg.Pool. */
  circuitBreaker?: PgPoolOptions['circuitBreaker'];
  /** Bounds one connect (and authentication). Default `connectionTimeoutMillis`, else none. */
  createTimeoutMs?: number;
  /** More waiting checkouts than this fail `QUEUE_FULL`. Default Infinity. */
  maxWaiting?: number;
  /** Reports clients held longer than this on the core pool's 'leak' event. Default 0 = off. */
  leakDetectionMs?: number;
  /** The pool's name in stats, metrics and diagnostics. Default 'pool'. */
  name?: string;
  clock?: PgPoolOptions['clock'];
  /** Behind PgBouncer: refuses what its pool mode cannot do (see @pool/pg's "Behind PgBouncer"). Default none. */
  pgbouncer?: PgPoolOptions['pgbouncer'];
}

/** The settings only pg-pool reads (everything else in a pg.PoolConfig goes to each pg.Client). */
const PG_POOL_NAMES = [
  'max', 'poolSize', 'min', 'idleTimeoutMillis', 'connectionTimeoutMillis', 'maxUses', 'maxLifetimeSeconds',
  'allowExitOnIdle', 'log', 'Promise', 'Client', 'onConnect', 'verify',
] as const;

/** pg.Client's settings, as pg 8 reads them (client.js, connection-parameters.js, defaults.js). */
const PG_CLIENT_NAMES = [
  'user', 'database', 'password', 'port', 'host', 'connectionString', 'ssl', 'sslnegotiation', 'sslmode', 'binary',
  'options', 'client_encoding', 'replication', 'application_name', 'fallback_application_name', 'statement_timeout',
  'lock_timeout', 'idle_in_transaction_session_timeout', 'query_timeout', 'connect_timeout', 'keepAlive',
  'keepAliveInitialDelayMillis', 'keepalives', 'keepalives_idle', 'stream', 'types', 'Promise', 'connection',
  'enableChannelBinding', 'scramMaxIterations', 'pipeline', 'rows', 'parseInputDatesAsUTC', 'parseInt8',
  'connectionTimeoutMillis', 'lookup',
] as const;

const SWITCH_NAMES = [
  'resetOnRelease', 'resetTimeoutMs', 'validateOnAcquire', 'validateOnRelease', 'healthCheckIntervalMs', 'createRetry',
  'circuitBreaker', 'createTimeoutMs', 'maxWaiting', 'leakDetectionMs', 'name', 'clock', 'pgbouncer',
] as const;

const KNOWN_NAMES = new Set<string>([...PG_POOL_NAMES, ...PG_CLIENT_NAMES, ...SWITCH_NAMES]);
const POOL_ONLY = new Set<string>([...PG_POOL_NAMES, ...SWITCH_NAMES]);
const CONNECTION_NAMES = ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl'] as const;

/** What the facade reads from its config. */
export interface CompatSettings {
  /** Options for the underlying `@pool/pg` pool. */
  poolOptions: PgPoolOptions;
  max: number;
  min: number;
  /** 0 = idle clients are never closed. */
  idleTimeoutMs: number;
  /** 0 = none. */
  lifetimeMs: number;
  allowExitOnIdle: boolean;
  resetOnRelease: 'rollback' | 'discard' | undefined;
  resetTimeoutMs: number;
  /** Names of pg.Client settings the user gave (so the pool adds none of its own defaults). */
  givenClientNames: ReadonlySet<string>;
  /** Those settings, as given. */
  clientSettings: Readonly<Record<string, unknown>>;
}

function positiveOr(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === 0) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw invalid(name, value, 'a number >= 0');
  return value;
}

/** Reads a pg.PoolConfig plus the facade's switches; refuses names neither pg nor the pool knows. */
export function readCompatConfig(config: pg.PoolConfig & PgPoolCompatSwitches): CompatSettings {
  if (config === null || typeof config !== 'object') throw invalid('config', config, 'an object (pg.PoolConfig)');
  const defined = Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
  rejectUnknownOptions(defined, KNOWN_NAMES);
  const raw = defined as Record<string, unknown>;
  // pg-pool: `max || poolSize || 10`, `min || 0`, idle 10 s unless set (0 = never).
  const max = positiveOr('max', raw['max'] ?? raw['poolSize'], 10);
  if (!Number.isInteger(max) || max < 1) throw invalid('max', max, 'an integer >= 1');
  const min = positiveOr('min', raw['min'], 0);
  const idleTimeoutMs = raw['idleTimeoutMillis'] === undefined ? 10_000 : positiveOr('idleTimeoutMillis', raw['idleTimeoutMillis'], 0);
  const connectMs = positiveOr('connectionTimeoutMillis', raw['connectionTimeoutMillis'], 0);
  const lifetimeMs = positiveOr('maxLifetimeSeconds', raw['maxLifetimeSeconds'], 0) * 1_000;
  const maxUses = positiveOr('maxUses', raw['maxUses'], Infinity);
  for (const name of ['onConnect', 'verify', 'log', 'Client'] as const) {
    if (raw[name] !== undefined && typeof raw[name] !== 'function') throw invalid(name, raw[name], 'a function');
  }
  const resetOnRelease = raw['resetOnRelease'] as CompatSettings['resetOnRelease'];
  if (resetOnRelease !== undefined && resetOnRelease !== 'rollback' && resetOnRelease !== 'discard') {
    throw invalid('resetOnRelease', resetOnRelease, "'rollback' or 'discard' (or unset: no reset, as pg.Pool)");
  }

  const client: Record<string, unknown> = {};
  const givenClientNames = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    // pg-pool hands its whole config to each client; pg.Client reads connectionTimeoutMillis too.
    if (POOL_ONLY.has(key) && key !== 'connectionTimeoutMillis' && key !== 'Promise') continue;
    if ((CONNECTION_NAMES as readonly string[]).includes(key)) continue;
    client[key] = value;
    givenClientNames.add(key);
  }
  const poolOptions: Record<string, unknown> = {
    maxPerNode: max,
    // pg's `min` keeps clients from being closed when idle; it creates none: the facade reaps idle
    // clients itself (below), so core never reaps nor warms.
    minIdlePerNode: 0,
    idleTimeoutMs: 0,
    acquireTimeoutMs: connectMs > 0 ? connectMs : NO_TIMEOUT_MS,
    createTimeoutMs: connectMs > 0 ? connectMs : NO_TIMEOUT_MS,
    maxUses,
    maxLifetimeMs: lifetimeMs,
    lifetimeJitterMs: 0,
    validateOnAcquire: false,
    validateOnRelease: false,
    healthCheckIntervalMs: 0,
    createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    circuitBreaker: false,
    idleOrder: 'lifo',
    keepAlive: raw['keepAlive'] ?? false,
    client,
  };
  for (const key of CONNECTION_NAMES) if (raw[key] !== undefined) poolOptions[key] = raw[key];
  for (const key of SWITCH_NAMES) {
    if (key === 'resetOnRelease' || key === 'resetTimeoutMs') continue;
    if (raw[key] !== undefined) poolOptions[key] = raw[key];
  }
  return {
    poolOptions: poolOptions as PgPoolOptions,
    max,
    min,
    idleTimeoutMs,
    lifetimeMs,
    allowExitOnIdle: raw['allowExitOnIdle'] === true,
    resetOnRelease,
    resetTimeoutMs: positiveOr('resetTimeoutMs', raw['resetTimeoutMs'], 5_000),
    givenClientNames,
    clientSettings: client,
  };
}
