import type { Clock } from './clock.js';
import type { PermitSource } from './permit-source.js';

/** One backend endpoint. Transport packages extend it with their endpoint fields. */
export interface PoolNode {
  id: string;
  /** Relative share of new connections and affinity keys (round-robin, random, p2c, affinity); default 1. */
  weight?: number;
}

/** What `create` is given besides the node. */
export interface CreateContext {
  /** Aborted when `createTimeoutMs` passes or the pool closes: stop connecting and reject. */
  signal: AbortSignal;
  /**
   * Retire this connection, at any time during or after create: it is never handed to a new
   * lease, and is destroyed at once when no lease holds it, else when its last lease ends.
   * For peer-closed sockets, GOAWAY, 'error' events on idle clients.
   */
  invalidate(reason?: unknown): void;
}

export interface ValidateContext<N> {
  signal: AbortSignal;
  node: N;
  reason: 'acquire' | 'release' | 'idle';
}

/** How the pool makes, checks and disposes of connections. */
export interface ConnectionFactory<C, N extends PoolNode = PoolNode> {
  create(node: N, ctx: CreateContext): Promise<C>;
  destroy(connection: C, node: N): Promise<void> | void;
  validate?(connection: C, ctx: ValidateContext<N>): Promise<boolean> | boolean;
  /** Runs before a connection goes back to idle; a throw destroys the connection. */
  reset?(connection: C, node: N): Promise<void> | void;
  /** Used by `pool.use`: true when the error means the connection must not be reused. */
  isBroken?(error: unknown, connection: C): boolean;
  /**
   * Lease cap of one connection, when the transport learns it after connecting (HTTP/2
   * SETTINGS_MAX_CONCURRENT_STREAMS). Consulted after create and after each lease ends;
   * clamped to [1, maxLeasesPerConnection].
   */
  maxLeases?(connection: C, node: N): number;
  /**
   * Whether a failed create is worth another try under `createRetry`; default: every failure is.
   * Return false for failures a retry cannot mend (an SSH host key the client refuses, a wrong
   * password): the waiter then gets CREATE_FAILED at once instead of after the backoff. The
   * failure still counts towards the node's circuit.
   */
  isRetryable?(error: unknown, node: N): boolean;
}

export interface PartitionOptions {
  /** Hard cap on leases of this partition held at once. */
  max: number;
  /** Default priority of acquires naming this partition; default 0. */
  priority?: number;
}

export interface CreateRetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive create failures that open a node's circuit (validation failures do not count: a stale idle connection failing after a backend restart says nothing about the backend now). Default 5. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial create is let through. */
  cooldownMs: number;
}

export interface PoolOptions<C, N extends PoolNode = PoolNode> {
  factory: ConnectionFactory<C, N>;
  /**
   * What stats, metrics and diagnostics channels call this pool; default `'pool'` (transports
   * default to their endpoint: the database name, the first origin...). Give each pool of a
   * process its own, so their metrics are told apart. Never put a secret in it.
   */
  name?: string;
  /** Default: one node `{ id: 'default' }`. An empty list is allowed: acquire then fails NODE_UNAVAILABLE at once until addNode. */
  nodes?: N[];
  /** Idle connections kept warm per node by the maintainer; default 0. */
  minIdlePerNode?: number;
  /** Connections per node, creating and closing ones included; default 10. */
  maxPerNode?: number;
  /** Connections across all nodes; default Infinity. */
  maxTotal?: number;
  /** Leases one connection may carry at once; default 1 (exclusive). */
  maxLeasesPerConnection?: number;
  /** Waiters allowed at once; past it acquire fails QUEUE_FULL. Default Infinity. */
  maxWaiting?: number;
  /** Default 30_000 ms. */
  acquireTimeoutMs?: number;
  /** Aborts the factory's signal after this long; default 10_000 ms. */
  createTimeoutMs?: number;
  /** Idle connections above minIdlePerNode are closed after this long; default 300_000 ms; 0 = never. */
  idleTimeoutMs?: number;
  /** Connections are recycled (when idle) after this long; default 3_600_000 ms; 0 = never. */
  maxLifetimeMs?: number;
  /** Random amount taken off each connection's lifetime; default min(maxLifetimeMs/10, 30_000) ms. */
  lifetimeJitterMs?: number;
  /** Leases a connection serves before it is recycled; default Infinity. */
  maxUses?: number;
  /** Validate before handing out; default { idleForMs: 500 } (only connections idle that long). */
  validateOnAcquire?: boolean | { idleForMs: number };
  /** Validate when a lease ends; default false. */
  validateOnRelease?: boolean;
  /** Interval of background validation of idle connections; default 30_000 ms; 0 = off. */
  healthCheckIntervalMs?: number;
  /** Which idle connection is reused first; default 'lifo' (warm connections, idle ones age out). */
  idleOrder?: 'lifo' | 'fifo';
  /** Named operation types with their own hard caps. */
  partitions?: Record<string, PartitionOptions>;
  /** Node selection; default 'p2c'. */
  balancer?: BalancerName | Balancer<N>;
  /** Default { attempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 }. */
  createRetry?: CreateRetryOptions;
  /** Default { failureThreshold: 5, cooldownMs: 10_000 }; false = off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** Emit 'leak' for leases held longer than this; default 0 = off. */
  leakDetectionMs?: number;
  /** A waiter's priority grows by one for each this many ms it waits; default 1_000 ms. */
  priorityAgingMs?: number;
  /** Time source; default the system clock. */
  clock?: Clock;
  /** Per-node concurrency limit on leases that follows latency (gradient2, aimd, vegas); default false. */
  adaptiveLimit?: false | AdaptiveLimitOptions;
  /**
   * Default none. A permit per connection, asked for before each create and given back once the
   * destroy settled: e.g. `@pool/fleet`'s `redisPermits`, a cap shared by every replica. The
   * wait counts against the acquire's timeout; a lost permit retires its connection.
   */
  permits?: PermitSource<N>;
}

/** Options with every default filled in. */
export interface ResolvedOptions<C, N extends PoolNode> {
  factory: ConnectionFactory<C, N>;
  name: string;
  nodes: N[];
  minIdlePerNode: number;
  maxPerNode: number;
  maxTotal: number;
  maxLeasesPerConnection: number;
  maxWaiting: number;
  acquireTimeoutMs: number;
  createTimeoutMs: number;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  lifetimeJitterMs: number;
  maxUses: number;
  /** -1 = never validate on acquire; else validate connections idle at least this long. */
  validateIdleForMs: number;
  validateOnRelease: boolean;
  healthCheckIntervalMs: number;
  idleOrder: 'lifo' | 'fifo';
  partitions: Record<string, PartitionOptions>;
  balancer: BalancerName | Balancer<N>;
  createRetry: CreateRetryOptions;
  circuitBreaker: CircuitBreakerOptions | false;
  leakDetectionMs: number;
  priorityAgingMs: number;
  clock: Clock;
  adaptiveLimit: ResolvedAdaptiveLimit | false;
  permits: PermitSource<N> | undefined;
}

export type BalancerName = 'round-robin' | 'least-connections' | 'p2c' | 'random';

/** What a custom balancer sees of one candidate node. */
export interface NodeLoad<N extends PoolNode = PoolNode> {
  readonly node: N;
  /** Leases outstanding on the node. */
  readonly leases: number;
  /** Connections of the node, creating ones included. */
  readonly total: number;
  readonly idle: number;
  /** The node's `weight`, default 1. */
  readonly weight: number;
}

/**
 * A custom node selection: given the nodes that can serve now, return the one to use (or
 * undefined to wait). Called only when the pool has more than one candidate.
 */
export type Balancer<N extends PoolNode = PoolNode> = (
  candidates: readonly NodeLoad<N>[],
  request: { affinityKey?: string },
) => NodeLoad<N> | undefined;

/** One user's hold on a connection, from acquire to release or destroy. */
export interface Lease<C, N extends PoolNode = PoolNode> extends AsyncDisposable {
  readonly connection: C;
  readonly node: N;
  /** ms epoch when the connection was created. */
  readonly createdAt: number;
  /** ms epoch of this lease. */
  readonly acquiredAt: number;
  /** Leases this connection has served, this one included. */
  readonly useCount: number;
  /**
   * Gives the connection back. A second call rejects LEASE_RELEASED. With `adaptiveLimit` on,
   * `outcome` tells the node's limit what the operation cost (see {@link LeaseOutcome}); without
   * it the sample is acquire-to-release, not dropped.
   */
  release(outcome?: LeaseOutcome): Promise<void>;
  /** The connection is broken: close it, never reuse it. */
  destroy(reason?: unknown): Promise<void>;
}

/** What the operation done on a lease cost, for the node's adaptive limit. */
export interface LeaseOutcome {
  /** The operation's own latency (send to reply), ms; default acquire-to-release. */
  latencyMs?: number;
  /** The operation failed as an overloaded backend fails (timeout, 503/429, RESOURCE_EXHAUSTED); default false. */
  dropped?: boolean;
}

export interface AcquireOptions {
  /** A specific node; otherwise the balancer picks. */
  node?: string;
  /** Same key, same node while it is healthy (rendezvous hashing). */
  affinityKey?: string;
  /** Counts against that partition's cap from acquire to release. */
  partition?: string;
  /** Higher first; default 0, or the partition's priority. */
  priority?: number;
  signal?: AbortSignal;
  /**
   * Overrides acquireTimeoutMs for this call, ms: a number >= 0 (0 = only what is free now) or
   * Infinity. Anything else (NaN, '50', -1) rejects INVALID_OPTIONS naming timeoutMs.
   */
  timeoutMs?: number;
}

/** The algorithms `adaptiveLimit.algorithm` names. */
export type AdaptiveAlgorithm = 'gradient2' | 'aimd' | 'vegas';

/** The bounds every algorithm keeps its limit within. */
export interface LimitBounds {
  /** Lowest limit, >= 1. */
  min: number;
  /** Highest limit, >= min; may be Infinity. */
  max: number;
  /** Starting limit, within [min, max]. */
  initial: number;
}

/** The pool option `adaptiveLimit` when it is on. */
export interface AdaptiveLimitOptions {
  /** Which algorithm moves each node's limit; default 'gradient2'. */
  algorithm?: AdaptiveAlgorithm;
  /** Each node's limit before its first samples; default min(max, 4): gradient2 and vegas learn their no-load latency from the first samples, which must not be queued ones. */
  initial?: number;
  /** The lowest limit; default 1. */
  min?: number;
  /** The highest limit; default what maxPerNode × maxLeasesPerConnection allow. */
  max?: number;
}

/** The option resolved: the algorithm and integer bounds with min <= initial <= max. */
export interface ResolvedAdaptiveLimit extends LimitBounds {
  algorithm: AdaptiveAlgorithm;
}
