import { PoolError, invalidOption, nearestName, rejectUnknownOptions, type ConnectionFactory, type CreateRetryOptions, type PoolNode, type PoolOptions } from '@pool/core';

/** What the pool makes, checks and disposes of resources with; generic-pool's shape. */
export interface Factory<T> {
  /** A new resource, or a promise of one; a rejection is a failed create. */
  create(): PromiseLike<T> | T;
  /** Closes a resource; may return a promise. A rejection is emitted as 'factoryDestroyError'. */
  destroy(resource: T): PromiseLike<unknown> | unknown;
  /** Resolves false for a resource that must not be used (with testOnBorrow / testOnReturn). */
  validate?(resource: T): PromiseLike<boolean> | boolean;
}

/** A Promises/A+ library, as generic-pool's `Promise` option takes it. */
export interface PromiseLibrary {
  resolve<V>(value: V | PromiseLike<V>): PromiseLike<V>;
  reject(reason: unknown): PromiseLike<never>;
}

/**
 * The @pool/core options a generic-pool user may add under `options.core`. Options generic-pool
 * already has a name for are set by that name (`max`, not `maxPerNode`).
 */
export type CoreExtension = Pick<
  PoolOptions<unknown, PoolNode>,
  | 'circuitBreaker'
  | 'createTimeoutMs'
  | 'maxLifetimeMs'
  | 'lifetimeJitterMs'
  | 'maxUses'
  | 'partitions'
  | 'leakDetectionMs'
  | 'priorityAgingMs'
  | 'clock'
> & {
  /** Core's create retry; fields left out keep the facade's defaults (8 tries, 50 ms base, 2 s cap). */
  createRetry?: Partial<CreateRetryOptions>;
};

/** generic-pool v3's options; every one is optional. */
export interface Options {
  /** Resources at most, creating ones included; default 1. */
  max?: number;
  /** Idle resources kept ready (see the README: generic-pool counts borrowed ones too); default 0, capped at max. */
  min?: number;
  /** Waiting acquires allowed once the pool is full; past it acquire rejects 'max waitingClients count exceeded'. Default unlimited. */
  maxWaitingClients?: number;
  /** Validate (factory.validate) before every acquire; default false. */
  testOnBorrow?: boolean;
  /** Validate on every release; default false. */
  testOnReturn?: boolean;
  /** ms an acquire waits before it rejects TimeoutError 'ResourceRequest timed out'; default no limit. */
  acquireTimeoutMillis?: number;
  /** ms factory.destroy may take before 'factoryDestroyError' with 'destroy timed out'; default no limit. */
  destroyTimeoutMillis?: number;
  /** true: the resource idle longest is handed out first; false: the most recently released. Default true. */
  fifo?: boolean;
  /** Priority levels 0 (highest) to priorityRange - 1; default 1. */
  priorityRange?: number;
  /** Start (create min, start eviction) in the constructor; false: at start() or the first acquire. Default true. */
  autostart?: boolean;
  /** ms between eviction runs; default 0 = no eviction. */
  evictionRunIntervalMillis?: number;
  /** Idle resources judged per eviction run; default 3. */
  numTestsPerEvictionRun?: number;
  /** ms idle after which a resource is evicted while more than min are idle; default -1 = never. */
  softIdleTimeoutMillis?: number;
  /** ms idle after which a resource is evicted; default 30_000 (only with evictionRunIntervalMillis). */
  idleTimeoutMillis?: number;
  /**
   * Creates one acquire may try before it rejects ResourceCreationError (cause: the factory's
   * error), with full-jitter backoff between them; default 8. Not in generic-pool 3.9: the option
   * its users asked for (node-pool #183, #184). Same as `core.createRetry.attempts`.
   */
  maxTries?: number;
  /** Promise library of the promises the pool returns; default the global Promise. */
  Promise?: PromiseLibrary;
  /** @pool/core options generic-pool has no name for (retries, circuit breaker, partitions...). */
  core?: CoreExtension;
}

/** The options with generic-pool's parsing and defaults applied. */
export interface ResolvedConfig {
  max: number;
  min: number;
  maxWaitingClients: number | undefined;
  testOnBorrow: boolean;
  testOnReturn: boolean;
  acquireTimeoutMillis: number | undefined;
  destroyTimeoutMillis: number | undefined;
  fifo: boolean;
  priorityRange: number;
  autostart: boolean;
  evictionRunIntervalMillis: number;
  numTestsPerEvictionRun: number;
  softIdleTimeoutMillis: number;
  idleTimeoutMillis: number;
  Promise: PromiseLibrary;
  /** Core options: CORE_DEFAULTS under options.core, createRetry merged field by field, maxTries applied. */
  core: ResolvedCore;
}

export type ResolvedCore = Omit<CoreExtension, 'createRetry'> & { createRetry: CreateRetryOptions };

const KNOWN = new Set([
  'max', 'min', 'maxWaitingClients', 'testOnBorrow', 'testOnReturn', 'acquireTimeoutMillis', 'destroyTimeoutMillis',
  'fifo', 'priorityRange', 'autostart', 'evictionRunIntervalMillis', 'numTestsPerEvictionRun', 'softIdleTimeoutMillis',
  'idleTimeoutMillis', 'maxTries', 'Promise', 'core',
]);

const CORE_KNOWN = ['createRetry', 'circuitBreaker', 'createTimeoutMs', 'maxLifetimeMs', 'lifetimeJitterMs', 'maxUses', 'partitions', 'leakDetectionMs', 'priorityAgingMs', 'clock'];

/** Core options the facade sets from a generic-pool option: named by that option when given under `core`. */
const CORE_SET_BY: Record<string, string> = {
  maxPerNode: 'max', maxTotal: 'max', minIdlePerNode: 'min', maxWaiting: 'maxWaitingClients', acquireTimeoutMs: 'acquireTimeoutMillis',
  idleTimeoutMs: 'idleTimeoutMillis', validateOnAcquire: 'testOnBorrow', validateOnRelease: 'testOnReturn', idleOrder: 'fifo',
  healthCheckIntervalMs: 'evictionRunIntervalMillis', factory: 'the factory argument',
};

const warned = new Set<string>();

/**
 * generic-pool ignores option names it does not know, and its own test suite passes some
 * (`log`, a misspelt `idletimeoutMillis`), so refusing them would break working code. Each unknown
 * name is reported once per process as a warning naming the nearest known option.
 */
function warnUnknown(name: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  const nearest = nearestName(name, KNOWN);
  const hint = nearest === undefined ? '' : ` (did you mean ${nearest}?)`;
  process.emitWarning(`@pool/generic-pool: unknown option ${name} is ignored${hint}`, { code: 'POOL_UNKNOWN_OPTION' });
}

function toInt(value: unknown): number {
  return parseInt(value as string, 10);
}

/** A positive timeout in ms like generic-pool reads it (falsy = none); nonsense is refused instead of failing later. */
function timeoutOption(name: string, value: unknown): number | undefined {
  if (!value) return undefined;
  const ms = toInt(value);
  if (Number.isNaN(ms) || ms <= 0) throw invalidOption(name, value, 'must be a positive number of ms, or left out for no limit');
  return ms;
}

function resolveCore(value: unknown): CoreExtension {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidOption('core', value, 'must be an object of @pool/core options');
  for (const name of Object.keys(value)) {
    const setBy = CORE_SET_BY[name];
    if (setBy !== undefined) throw new PoolError('INVALID_OPTIONS', `Invalid option core.${name}: set it with ${setBy === 'the factory argument' ? setBy : `the generic-pool option ${setBy}`}`);
  }
  rejectUnknownOptions(value, CORE_KNOWN, 'core.');
  return value as CoreExtension;
}

/** Reads options the way generic-pool 3.9 does (lenient numbers, typed booleans), plus `core`. */
export function resolveConfig(input: Options | undefined): ResolvedConfig {
  const options = (input ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object') throw invalidOption('options', input, 'must be an object');
  for (const name of Object.keys(options)) if (!KNOWN.has(name)) warnUnknown(name);

  const parsedMax = toInt(options['max']);
  const max = Math.max(Number.isNaN(parsedMax) ? 1 : parsedMax, 1);
  const parsedMin = toInt(options['min']);
  const min = Math.max(Math.min(Number.isNaN(parsedMin) ? 0 : parsedMin, max), 0);
  const parsedWaiting = options['maxWaitingClients'] === undefined ? NaN : toInt(options['maxWaitingClients']);
  const promiseLibrary = options['Promise'] as PromiseLibrary | null | undefined;
  if (promiseLibrary != null && (typeof promiseLibrary.resolve !== 'function' || typeof promiseLibrary.reject !== 'function')) {
    throw invalidOption('Promise', promiseLibrary, 'must be a Promise library with resolve() and reject()');
  }
  const bool = (name: string, fallback: boolean): boolean => (typeof options[name] === 'boolean' ? (options[name] as boolean) : fallback);
  const number = (name: string, fallback: number): number => {
    const value = options[name];
    return typeof value === 'number' && !Number.isNaN(value) && value !== 0 ? value : fallback;
  };
  return {
    max,
    min,
    // generic-pool compares against NaN (never full) when the value is not a number: no limit.
    maxWaitingClients: Number.isNaN(parsedWaiting) ? undefined : parsedWaiting,
    testOnBorrow: bool('testOnBorrow', false),
    testOnReturn: bool('testOnReturn', false),
    acquireTimeoutMillis: timeoutOption('acquireTimeoutMillis', options['acquireTimeoutMillis']),
    destroyTimeoutMillis: timeoutOption('destroyTimeoutMillis', options['destroyTimeoutMillis']),
    fifo: bool('fifo', true),
    priorityRange: Math.max(Number(options['priorityRange'] || 1) | 0, 1),
    autostart: bool('autostart', true),
    evictionRunIntervalMillis: Math.max(number('evictionRunIntervalMillis', 0), 0),
    numTestsPerEvictionRun: number('numTestsPerEvictionRun', 3),
    softIdleTimeoutMillis: number('softIdleTimeoutMillis', -1),
    idleTimeoutMillis: number('idleTimeoutMillis', 30_000),
    Promise: promiseLibrary ?? Promise,
    core: withDefaults(resolveCore(options['core']), maxTriesOption(options['maxTries'])),
  };
}

function maxTriesOption(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const tries = toInt(value);
  if (Number.isNaN(tries) || tries < 1) throw invalidOption('maxTries', value, 'must be an integer >= 1');
  return tries;
}

function withDefaults(core: CoreExtension, maxTries: number | undefined): ResolvedCore {
  const createRetry: CreateRetryOptions = { ...CORE_DEFAULTS.createRetry, ...core.createRetry };
  if (maxTries !== undefined) createRetry.attempts = maxTries;
  return { ...CORE_DEFAULTS, ...core, createRetry };
}

/** The facade's defaults for what generic-pool has no option for; `options.core` overrides them. */
export const CORE_DEFAULTS = {
  // generic-pool retried a failing create forever; 8 tries give up after about 2.5 s on average.
  createRetry: { attempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 } as CreateRetryOptions,
  // One node and no failover: open only after more failures than one acquire's retries make.
  circuitBreaker: { failureThreshold: 10, cooldownMs: 10_000 },
  // generic-pool has no create timeout; a hung create is bounded by acquireTimeoutMillis.
  createTimeoutMs: Infinity,
  // generic-pool neither recycles by age nor ages priorities.
  maxLifetimeMs: 0,
  priorityAgingMs: Infinity,
} as const;

/** Core's options for this pool: generic-pool's mapped onto core's names, over the facade's defaults and `core`. */
export function coreOptionsOf<T>(config: ResolvedConfig, factory: ConnectionFactory<T, PoolNode>, minIdlePerNode: number, hasValidate: boolean): PoolOptions<T, PoolNode> {
  return {
    ...config.core,
    factory,
    maxPerNode: config.max,
    minIdlePerNode,
    acquireTimeoutMs: config.acquireTimeoutMillis ?? Infinity,
    // Idle eviction is generic-pool's evictor, run by core's background validation.
    idleTimeoutMs: 0,
    validateOnAcquire: config.testOnBorrow && hasValidate,
    validateOnRelease: config.testOnReturn && hasValidate,
    healthCheckIntervalMs: config.evictionRunIntervalMillis,
    idleOrder: config.fifo ? 'fifo' : 'lifo',
  };
}
