export { createHttp2Pool, type Http2Pool, type Http2RequestOptions } from './pool.js';
export { Http2PoolDispatcher } from './dispatcher.js';
export type { Http2RequestRouting } from './pooled-request.js';
export type {
  Http2ClientTuning,
  Http2ConnectOptions,
  Http2Node,
  Http2PingFunction,
  Http2PoolOptions,
} from './options.js';
export { PoolError, isPoolError, type PoolErrorCode } from '@pool/core';
