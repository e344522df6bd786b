import { POOL_OPTION_NAMES, PoolError, type PoolNode, type PoolOptions, invalidOption, rejectUnknownOptions } from '@pool/core';
import pg from 'pg';
import { resolvePgBouncer, type PgBouncerOption, type ResolvedPgBouncer } from './pgbouncer.js';
import { collectSecrets } from './redact.js';

/** Which kind of server a node is: writes go to primaries; read-only work prefers replicas. */
export type PgRole = 'primary' | 'replica';

/** Where and how to connect. Fields given on a node override the pool-level ones. */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database?...`. A secret: it never appears in errors, stats or events. */
  connectionString?: string;
  /** Default: pg's default (`PGHOST` or `localhost`). */
  host?: string;
  /** Default: pg's default (`PGPORT` or 5432). */
  port?: number;
  user?: string;
  /** A string, or pg's function form returning one (useful for rotating IAM tokens). */
  password?: string | (() => string | Promise<string>);
  database?: string;
  /** Passed to pg as is: `true`, or node:tls options (`ca`, `rejectUnauthorized`, ...). Default off. */
  ssl?: boolean | import('node:tls').ConnectionOptions;
}

/** A node as you configure it: an id, a role and how to reach it. */
export interface PgNodeOptions extends PgConnectionOptions {
  id: string;
  /** Default `'primary'`. */
  role?: PgRole;
}

/** A node as the pool shows it (`pool.nodes`, events): no credentials, ever. */
export interface PgNode extends PoolNode {
  readonly id: string;
  readonly role: PgRole;
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** The pg.Client settings that are not about where to connect. */
export type PgClientExtras = Omit<
  pg.ClientConfig,
  'connectionString' | 'host' | 'port' | 'user' | 'password' | 'database' | 'ssl' | 'statement_timeout' | 'application_name'
>;

/**
 * Pool options. pg.Client settings (`types`, `lock_timeout`, `connectionTimeoutMillis`, ...) may be
 * given at top level as `new pg.Pool()` takes them, or in `client`; either way they go to every
 * pg.Client as is. Names neither pg nor the pool knows are refused (`INVALID_OPTIONS`).
 */
export interface PgPoolOptions
  extends PgConnectionOptions,
    PgClientExtras,
    Omit<PoolOptions<pg.Client, PgNode>, 'factory' | 'nodes'> {
  /** Several servers; each needs a unique `id`. Default: one node `{ id: 'default', role: 'primary' }`. */
  nodes?: PgNodeOptions[];
  /** Server-side `statement_timeout` set at connect. Default 0 = the server's setting. */
  statementTimeoutMs?: number;
  /**
   * Client-side deadline for `pool.query`: when it passes, a cancel request goes to the server and
   * the query rejects `ABORTED`. Default 0 = none. Per call: `query(..., { queryTimeoutMs })`.
   */
  queryTimeoutMs?: number;
  /**
   * How long a cancelled query may take to stop before its connection is destroyed instead of reused.
   * Default 5_000 ms.
   */
  cancelTimeoutMs?: number;
  /**
   * What a released connection goes through before reuse. `'rollback'` (default): a connection left in
   * a transaction (open or aborted) is rolled back; free when no transaction is open. `'discard'`:
   * also `DISCARD ALL` (session settings, temp tables, prepared statements, LISTEN), one extra round
   * trip on every release.
   */
  resetOnRelease?: 'rollback' | 'discard';
  /** Deadline for the reset queries; a reset that misses it destroys the connection. Default 5_000 ms. */
  resetTimeoutMs?: number;
  /** `application_name` shown in `pg_stat_activity`. Default `'@pool/pg'`. */
  applicationName?: string;
  /** TCP keep-alive on every client. Default true. */
  keepAlive?: boolean;
  /** Any other pg.Client setting (`types`, `binary`, `lock_timeout`, ...), passed through. */
  client?: PgClientExtras;
  /**
   * The servers are PgBouncer in transaction mode: refuses what cannot work there (`'discard'`
   * reset, settings pg sends at startup such as `statementTimeoutMs`, named prepared statements
   * unless `preparedStatements`). Default: unset (PostgreSQL, or PgBouncer in session mode).
   */
  pgbouncer?: PgBouncerOption;
}

export interface ResolvedPgOptions {
  nodes: PgNode[];
  clientConfigs: Map<string, pg.ClientConfig>;
  secrets: string[];
  queryTimeoutMs: number;
  cancelTimeoutMs: number;
  resetOnRelease: 'rollback' | 'discard';
  resetTimeoutMs: number;
  pgbouncer: ResolvedPgBouncer | undefined;
  poolOptions: Omit<PoolOptions<pg.Client, PgNode>, 'factory' | 'nodes'>;
}

const TRANSPORT_KEYS = [
  'nodes', 'connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl', 'statementTimeoutMs',
  'queryTimeoutMs', 'cancelTimeoutMs', 'resetOnRelease', 'resetTimeoutMs', 'applicationName', 'keepAlive', 'client',
  'pgbouncer',
] as const;

/** Every option `@pool/core`'s createPool takes, bar factory and nodes (which this package builds). */
const CORE_OPTIONS: ReadonlySet<string> = new Set(POOL_OPTION_NAMES.filter((name) => name !== 'factory' && name !== 'nodes'));

/**
 * pg.Client's documented settings (node-postgres `new Client(config)`, pg 8.23). Given at top level
 * they go to every client, as pg.Pool does with them.
 */
export const PG_CLIENT_SETTINGS: ReadonlySet<string> = new Set([
  'user', 'password', 'host', 'port', 'database', 'connectionString', 'ssl', 'sslnegotiation', 'types',
  'statement_timeout', 'query_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'application_name',
  'fallback_application_name', 'connectionTimeoutMillis', 'keepAlive', 'keepAliveInitialDelayMillis', 'stream',
  'options', 'client_encoding', 'binary', 'replication', 'enableChannelBinding', 'Promise',
]);

const TRANSPORT_NAMES: ReadonlySet<string> = new Set(TRANSPORT_KEYS);
const KNOWN_OPTIONS: ReadonlySet<string> = new Set([...TRANSPORT_KEYS, ...CORE_OPTIONS, ...PG_CLIENT_SETTINGS]);

/** The same setting under this pool's name and under pg's: giving both is ambiguous. */
const SAME_SETTING: readonly (readonly [ownName: string, pgName: string])[] = [
  ['statementTimeoutMs', 'statement_timeout'],
  ['applicationName', 'application_name'],
];

/** Core's message shape (`Invalid option X: got V, must be R`), the value described without secrets. */
export function invalid(option: string, value: unknown, rule: string): PoolError {
  return invalidOption(option, value, `must be ${rule}`, describeValue(value));
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(name, value, 'a finite number of milliseconds >= 0');
  }
  return value;
}

/** Validates the transport options and builds one pg.Client config per node. Secrets stay out of messages. */
export function resolvePgOptions(options: PgPoolOptions): ResolvedPgOptions {
  if (options === null || typeof options !== 'object') throw invalid('options', options, 'an object');
  rejectUnknownOptions(options, KNOWN_OPTIONS);
  for (const [ownName, pgName] of SAME_SETTING) {
    const record = options as Record<string, unknown>;
    if (record[ownName] !== undefined && record[pgName] !== undefined) {
      throw invalid(pgName, record[pgName], `left unset when ${ownName} is given (they are the same setting)`);
    }
  }
  const statementTimeoutMs = checkMs('statementTimeoutMs', options.statementTimeoutMs, 0);
  const queryTimeoutMs = checkMs('queryTimeoutMs', options.queryTimeoutMs, 0);
  const cancelTimeoutMs = checkMs('cancelTimeoutMs', options.cancelTimeoutMs, 5_000);
  const resetTimeoutMs = checkMs('resetTimeoutMs', options.resetTimeoutMs, 5_000);
  const resetOnRelease = options.resetOnRelease ?? 'rollback';
  if (resetOnRelease !== 'rollback' && resetOnRelease !== 'discard') {
    throw invalid('resetOnRelease', resetOnRelease, "'rollback' or 'discard'");
  }
  if (options.applicationName !== undefined && typeof options.applicationName !== 'string') {
    throw invalid('applicationName', options.applicationName, 'a string');
  }
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
    throw invalid('keepAlive', options.keepAlive, 'a boolean');
  }
  if (options.client !== undefined && (options.client === null || typeof options.client !== 'object')) {
    throw invalid('client', options.client, 'an object of pg.Client settings');
  }
  const maxLeases = (options as { maxLeasesPerConnection?: unknown }).maxLeasesPerConnection;
  if (maxLeases !== undefined && maxLeases !== 1) {
    throw invalid('maxLeasesPerConnection', maxLeases, '1: a PostgreSQL session runs one statement at a time');
  }
  const nodeOptions = options.nodes ?? [{ id: 'default' }];
  if (!Array.isArray(nodeOptions) || nodeOptions.length === 0) {
    throw invalid('nodes', nodeOptions, 'a non-empty array of { id, role?, host?/port?/connectionString? }');
  }

  const topLevel = topLevelClientSettings(options);
  const base: pg.ClientConfig = {
    ...topLevel,
    ...options.client,
    keepAlive: options.keepAlive ?? true,
    application_name: options.applicationName ?? (topLevel['application_name'] as string | undefined) ?? '@pool/pg',
  };
  if (statementTimeoutMs > 0) base.statement_timeout = statementTimeoutMs;
  const pgbouncer = resolvePgBouncer(options.pgbouncer, options as Record<string, unknown>, base);

  const nodes: PgNode[] = [];
  const clientConfigs = new Map<string, pg.ClientConfig>();
  const secrets = new Set<string>();
  nodeOptions.forEach((node, index) => {
    const resolved = resolveNode(node, options, base, options.nodes ? `nodes[${index}].` : '');
    if (clientConfigs.has(resolved.node.id)) throw invalid(`nodes[${index}].id`, resolved.node.id, 'unique among nodes');
    nodes.push(resolved.node);
    clientConfigs.set(resolved.node.id, resolved.config);
    for (const secret of collectSecrets(resolved.config)) secrets.add(secret);
  });
  if (!nodes.some((node) => node.role === 'primary')) {
    throw invalid('nodes', `${nodes.length} replica(s)`, "a list with at least one node of role 'primary'");
  }

  const poolOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (CORE_OPTIONS.has(key)) poolOptions[key] = value;
  poolOptions['name'] ??= nodes.find((node) => node.role === 'primary')?.database || undefined;
  return {
    nodes,
    clientConfigs,
    secrets: [...secrets],
    queryTimeoutMs,
    cancelTimeoutMs,
    resetOnRelease,
    resetTimeoutMs,
    pgbouncer,
    poolOptions: poolOptions as ResolvedPgOptions['poolOptions'],
  };
}

/** The pg.Client settings given at top level (not the connection fields, which nodes may override). */
function topLevelClientSettings(options: PgPoolOptions): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && PG_CLIENT_SETTINGS.has(key) && !TRANSPORT_NAMES.has(key)) settings[key] = value;
  }
  return settings;
}

/** Builds the client config and the public (secret-free) node for one node entry. */
export function resolveNode(
  node: PgNodeOptions,
  defaults: PgConnectionOptions,
  base: pg.ClientConfig,
  prefix: string,
): { node: PgNode; config: pg.ClientConfig } {
  if (node === null || typeof node !== 'object') throw invalid(prefix || 'node', node, 'an object { id, role?, ... }');
  if (typeof node.id !== 'string' || node.id.length === 0) throw invalid(`${prefix}id`, node.id, 'a non-empty string');
  const role = node.role ?? 'primary';
  if (role !== 'primary' && role !== 'replica') throw invalid(`${prefix}role`, role, "'primary' or 'replica'");
  const config: pg.ClientConfig = { ...base };
  for (const key of ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl'] as const) {
    const value = node[key] ?? defaults[key];
    if (value !== undefined) (config as Record<string, unknown>)[key] = value;
  }
  // A node's own host/port wins over a pool-level connection string.
  if (node.connectionString === undefined && (node.host !== undefined || node.port !== undefined)) {
    delete config.connectionString;
  }
  if (config.port !== undefined && (!Number.isInteger(config.port) || config.port < 1 || config.port > 65_535)) {
    throw invalid(`${prefix}port`, config.port, 'an integer from 1 to 65535');
  }
  for (const key of ['host', 'user', 'database', 'connectionString'] as const) {
    const value = config[key];
    if (value !== undefined && typeof value !== 'string') throw invalid(`${prefix}${key}`, value, 'a string');
  }
  const password = config.password;
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function') {
    throw invalid(`${prefix}password`, '<redacted>', 'a string or a function returning one');
  }
  // pg parses the connection string in the Client constructor: do it once here so a bad one fails now.
  let probe: pg.Client;
  try {
    probe = new pg.Client(config);
  } catch {
    throw invalidOption(`${prefix}connectionString`, undefined, 'must be a valid postgres:// URL', '<redacted>');
  }
  return {
    node: { id: node.id, role, host: probe.host, port: probe.port, database: probe.database ?? '' },
    config,
  };
}
