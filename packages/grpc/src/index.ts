export { createGrpcPool } from './pool.js';
export type {
  ClientMethodName,
  GrpcPool,
  GrpcUnaryOptions,
  PooledClientOptions,
  UnaryRequest,
  UnaryResponse,
} from './pool.js';
export type { GrpcHealthCheckOptions, GrpcNode, GrpcPoolOptions } from './options.js';
export type { GrpcClientConstructor } from './channel-clients.js';
export type { PooledClient } from './client.js';
export type { PooledClientControls } from './client-controls.js';
export { PoolError, isPoolError } from '@pool/core';
export type { AcquireOptions, Lease, PoolErrorCode } from '@pool/core';
