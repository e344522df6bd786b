export { acquireOptionsOf, createPool } from './pool.js';
export { checkCallTimeout, invalidOption, nearestName, rejectUnknownOptions } from './resolve-options.js';
export { POOL_OPTION_NAMES } from './option-names.js';
export { holdProcess, holdWhile, openProcessHolds } from './keep-alive.js';
export type { AcquireOptions, CallAcquireOptions, Pool } from './pool.js';
export type { Lease } from './lease.js';
export { PoolError, isPoolError } from './errors.js';
export type { PoolErrorCode } from './errors.js';
export type {
  CircuitBreakerOptions,
  ConnectionFactory,
  CreateContext,
  CreateRetryOptions,
  PartitionOptions,
  PoolNode,
  PoolOptions,
  ValidateContext,
} from './options.js';
export type { Balancer, BalancerName, NodeLoad } from './balancer.js';
export { systemClock } from './clock.js';
export type { Clock, ClockTimer } from './clock.js';
export type { DestroyReason, PoolEventName, PoolEvents, PoolListener } from './events.js';
export type { CircuitState } from './records.js';
export { CHANNELS } from './diagnostics.js';
export type { AcquireChannelContext, CreateChannelContext, DestroyChannelMessage, ReleaseChannelMessage } from './diagnostics.js';
export { LATENCY_BUCKET_BOUNDS_MS } from './histogram.js';
export type { LatencySummary, NodeHealth, NodeStats, PartitionStats, PermitStats, PoolHealthReport, PoolStats } from './stats.js';
export type { Permit, PermitRequest, PermitSource } from './permit-source.js';
