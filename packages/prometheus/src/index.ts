export { registerPoolMetrics } from './register.js';
export type { PoolMetricsOptions, PoolMetricsRegistration, StatsSource } from './register.js';
