export { redisPermits } from './redis-permits.js';
export type { RedisPermitSource, RedisPermitsOptions } from './redis-permits.js';
