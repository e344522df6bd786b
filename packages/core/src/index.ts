export { acquireOptionsOf, createPool } from './pool.js';
export { checkCallTimeout, invalidOption, nearestName, rejectUnknownOptions } from './resolve-options.js';
export { POOL_OPTION_NAMES } from './option-names.js';
export { holdProcess, holdWhile, openProcessHolds } from './keep-alive.js';
export type { AcquireOptions, CallAcquireOptions, Pool } from './pool.js';
export type { Lease, LeaseOutcome } from './lease.js';
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
export { AdaptiveLimiter } from './limits/limiter.js';
export type { AdaptiveLimiterContext, ConcurrencyLimitFactory, LimitChange } from './limits/limiter.js';
export type { ConcurrencyLimit, LimitBounds } from './limits/limit.js';
export { Gradient2Limit } from './limits/gradient2.js';
export type { Gradient2Options } from './limits/gradient2.js';
export { AimdLimit } from './limits/aimd.js';
export type { AimdOptions } from './limits/aimd.js';
export { VegasLimit } from './limits/vegas.js';
export type { VegasOptions } from './limits/vegas.js';
export { ADAPTIVE_ALGORITHMS, createAdaptiveLimiter, resolveAdaptiveLimit } from './limits/resolve.js';
export type { AdaptiveAlgorithm, AdaptiveLimitOptions, ResolvedAdaptiveLimit } from './limits/resolve.js';
