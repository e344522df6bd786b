import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { PoolError } from './errors.js';
import { resolveAdaptiveLimit } from './limits/resolve.js';
import { NESTED_OPTION_NAMES, POOL_OPTION_NAME_SET } from './option-names.js';
import type { PermitSource } from './permit-source.js';
import type {
  Balancer, BalancerName, CircuitBreakerOptions, CreateRetryOptions, PartitionOptions, PoolNode, PoolOptions, ResolvedOptions,
} from './options.js';

export { checkCallTimeout, checkNumber, invalidOption, nearestName, rejectUnknownOptions } from './option-checks.js';
import { checkNumber, invalidOption, rejectUnknownOptions } from './option-checks.js';

function optional<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

const BALANCERS: readonly string[] = ['round-robin', 'least-connections', 'p2c', 'random'];

export function resolveOptions<C, N extends PoolNode>(options: PoolOptions<C, N>): ResolvedOptions<C, N> {
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'must be an object');
  rejectUnknownOptions(options, POOL_OPTION_NAME_SET);
  const { factory } = options;
  if (factory === null || typeof factory !== 'object') throw invalidOption('factory', factory, 'must be an object with create and destroy');
  for (const method of ['create', 'destroy'] as const) {
    if (typeof factory[method] !== 'function') throw invalidOption(`factory.${method}`, factory[method], 'must be a function');
  }
  for (const method of ['validate', 'reset', 'isBroken', 'maxLeases', 'isRetryable'] as const) {
    if (factory[method] !== undefined && typeof factory[method] !== 'function') {
      throw invalidOption(`factory.${method}`, factory[method], 'must be a function when given');
    }
  }

  const nodes = optional(options.nodes, [{ id: 'default' } as N]);
  if (!Array.isArray(nodes)) throw invalidOption('nodes', nodes, 'must be an array of { id }');
  const seen = new Set<string>();
  nodes.forEach((node, index) => checkNode(node, `nodes[${index}]`, seen));

  const maxPerNode = checkNumber('maxPerNode', optional(options.maxPerNode, 10), { min: 1, integer: true });
  const maxLeasesPerConnection = checkNumber('maxLeasesPerConnection', optional(options.maxLeasesPerConnection, 1), { min: 1, integer: true });
  const minIdlePerNode = checkNumber('minIdlePerNode', optional(options.minIdlePerNode, 0), { min: 0, integer: true });
  if (minIdlePerNode > maxPerNode) throw invalidOption('minIdlePerNode', minIdlePerNode, `must be <= maxPerNode (${maxPerNode})`);
  const maxLifetimeMs = checkNumber('maxLifetimeMs', optional(options.maxLifetimeMs, 3_600_000), { min: 0 });
  const lifetimeJitterMs = checkNumber(
    'lifetimeJitterMs',
    optional(options.lifetimeJitterMs, Math.min(maxLifetimeMs / 10, 30_000)),
    { min: 0 },
  );
  if (maxLifetimeMs > 0 && lifetimeJitterMs >= maxLifetimeMs) {
    throw invalidOption('lifetimeJitterMs', lifetimeJitterMs, `must be < maxLifetimeMs (${maxLifetimeMs})`);
  }

  const name = optional(options.name, 'pool');
  if (typeof name !== 'string' || name.length === 0) throw invalidOption('name', name, 'must be a non-empty string');

  return {
    factory,
    name,
    nodes: [...nodes],
    minIdlePerNode,
    maxPerNode,
    maxTotal: checkNumber('maxTotal', optional(options.maxTotal, Infinity), { min: 1, integer: true, allowInfinity: true }),
    maxLeasesPerConnection,
    maxWaiting: checkNumber('maxWaiting', optional(options.maxWaiting, Infinity), { min: 0, integer: true, allowInfinity: true }),
    acquireTimeoutMs: checkNumber('acquireTimeoutMs', optional(options.acquireTimeoutMs, 30_000), { min: 1, allowInfinity: true }),
    createTimeoutMs: checkNumber('createTimeoutMs', optional(options.createTimeoutMs, 10_000), { min: 1, allowInfinity: true }),
    idleTimeoutMs: checkNumber('idleTimeoutMs', optional(options.idleTimeoutMs, 300_000), { min: 0 }),
    maxLifetimeMs,
    lifetimeJitterMs: maxLifetimeMs === 0 ? 0 : lifetimeJitterMs,
    maxUses: checkNumber('maxUses', optional(options.maxUses, Infinity), { min: 1, integer: true, allowInfinity: true }),
    validateIdleForMs: resolveValidateOnAcquire(optional(options.validateOnAcquire, { idleForMs: 500 })),
    validateOnRelease: checkBoolean('validateOnRelease', optional(options.validateOnRelease, false)),
    healthCheckIntervalMs: checkNumber('healthCheckIntervalMs', optional(options.healthCheckIntervalMs, 30_000), { min: 0 }),
    idleOrder: checkOneOf('idleOrder', optional(options.idleOrder, 'lifo'), ['lifo', 'fifo'] as const),
    partitions: resolvePartitions(options.partitions),
    balancer: resolveBalancer(optional<BalancerName | Balancer<N>>(options.balancer, 'p2c')),
    createRetry: resolveCreateRetry(optional(options.createRetry, { attempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 })),
    circuitBreaker: resolveCircuitBreaker(optional(options.circuitBreaker, { failureThreshold: 5, cooldownMs: 10_000 })),
    leakDetectionMs: checkNumber('leakDetectionMs', optional(options.leakDetectionMs, 0), { min: 0 }),
    priorityAgingMs: checkNumber('priorityAgingMs', optional(options.priorityAgingMs, 1_000), { min: 1, allowInfinity: true }),
    clock: resolveClock(optional(options.clock, systemClock)),
    adaptiveLimit: resolveAdaptiveLimit(options.adaptiveLimit, { maxPerNode, maxLeasesPerConnection }),
    permits: resolvePermits<N>(options.permits),
  };
}

export function checkNode<N extends PoolNode>(node: N, option: string, seen: Set<string>): void {
  if (node === null || typeof node !== 'object') throw invalidOption(option, node, 'must be an object with an id');
  if (typeof node.id !== 'string' || node.id.length === 0) throw invalidOption(`${option}.id`, node.id, 'must be a non-empty string');
  if (seen.has(node.id)) throw invalidOption(`${option}.id`, node.id, 'must be unique among the nodes');
  if (node.weight !== undefined) checkNumber(`${option}.weight`, node.weight, { min: 0 });
  seen.add(node.id);
}

function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidOption(option, value, 'must be true or false');
  return value;
}

function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalidOption(option, value, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function resolveValidateOnAcquire(value: unknown): number {
  if (value === true) return 0;
  if (value === false) return -1;
  if (value !== null && typeof value === 'object') {
    rejectUnknownOptions(value, NESTED_OPTION_NAMES.validateOnAcquire, 'validateOnAcquire.');
    return checkNumber('validateOnAcquire.idleForMs', (value as { idleForMs?: unknown }).idleForMs, { min: 0 });
  }
  throw invalidOption('validateOnAcquire', value, 'must be a boolean or { idleForMs }');
}

function resolvePartitions(value: unknown): Record<string, PartitionOptions> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption('partitions', value, 'must be an object of { max, priority? } by name');
  }
  const partitions: Record<string, PartitionOptions> = {};
  for (const [name, partition] of Object.entries(value as Record<string, unknown>)) {
    if (partition === null || typeof partition !== 'object') throw invalidOption(`partitions.${name}`, partition, 'must be { max, priority? }');
    rejectUnknownOptions(partition, NESTED_OPTION_NAMES.partition, `partitions.${name}.`);
    const { max, priority } = partition as { max?: unknown; priority?: unknown };
    partitions[name] = {
      max: checkNumber(`partitions.${name}.max`, max, { min: 1, integer: true }),
      priority: priority === undefined ? 0 : checkNumber(`partitions.${name}.priority`, priority, { min: -Number.MAX_SAFE_INTEGER }),
    };
  }
  return partitions;
}

function resolveBalancer<N extends PoolNode>(value: unknown): BalancerName | Balancer<N> {
  if (typeof value === 'function') return value as Balancer<N>;
  if (typeof value === 'string' && BALANCERS.includes(value)) return value as BalancerName;
  throw invalidOption('balancer', value, `must be one of ${BALANCERS.join(', ')} or a function`);
}

function resolveCreateRetry(value: unknown): CreateRetryOptions {
  if (value === null || typeof value !== 'object') throw invalidOption('createRetry', value, 'must be { attempts, baseDelayMs, maxDelayMs }');
  rejectUnknownOptions(value, NESTED_OPTION_NAMES.createRetry, 'createRetry.');
  const { attempts, baseDelayMs, maxDelayMs } = value as Record<string, unknown>;
  const resolved = {
    attempts: checkNumber('createRetry.attempts', attempts, { min: 1, integer: true }),
    baseDelayMs: checkNumber('createRetry.baseDelayMs', baseDelayMs, { min: 0 }),
    maxDelayMs: checkNumber('createRetry.maxDelayMs', maxDelayMs, { min: 0 }),
  };
  if (resolved.maxDelayMs < resolved.baseDelayMs) {
    throw invalidOption('createRetry.maxDelayMs', resolved.maxDelayMs, `must be >= createRetry.baseDelayMs (${resolved.baseDelayMs})`);
  }
  return resolved;
}

function resolveCircuitBreaker(value: unknown): CircuitBreakerOptions | false {
  if (value === false) return false;
  if (value === null || typeof value !== 'object') throw invalidOption('circuitBreaker', value, 'must be { failureThreshold, cooldownMs } or false');
  rejectUnknownOptions(value, NESTED_OPTION_NAMES.circuitBreaker, 'circuitBreaker.');
  const { failureThreshold, cooldownMs } = value as Record<string, unknown>;
  return {
    failureThreshold: checkNumber('circuitBreaker.failureThreshold', failureThreshold, { min: 1, integer: true }),
    cooldownMs: checkNumber('circuitBreaker.cooldownMs', cooldownMs, { min: 0 }),
  };
}

function resolveClock(value: unknown): Clock {
  const clock = value as Partial<Clock> | null;
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw invalidOption('clock', value, 'must have now(), setTimeout() and clearTimeout()');
  }
  return clock as Clock;
}

function resolvePermits<N extends PoolNode>(value: unknown): PermitSource<N> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as { acquire?: unknown }).acquire !== 'function') {
    throw invalidOption('permits', value, 'must be a permit source with acquire(node, { signal })', 'a non-source');
  }
  return value as PermitSource<N>;
}
