export { createPgPool } from './pool.js';
export type { PgAcquireOptions, PgLeaseOptions, PgPool, PgQueryOptions, PgQueryValues } from './pool.js';
export type { PgClientExtras, PgConnectionOptions, PgNode, PgNodeOptions, PgPoolOptions, PgRole } from './options.js';
export type { PgIsolationLevel, PgTransactionOptions } from './transaction.js';
export type { PgBouncerOption, PgBouncerSettings } from './pgbouncer.js';
export { PgPoolCompat } from './compat.js';
export type { PgPoolCompatConfig, PgPoolCompatSwitches } from './compat.js';
export { PoolError, isPoolError } from '@pool/core';
export type { PoolErrorCode, Lease, PoolStats } from '@pool/core';
