export { METER_NAME, observePool } from './observe.js';
export type { ObservablePool, ObservePoolOptions, PoolObservation } from './observe.js';
export { SECONDS_BUCKETS } from './instruments.js';
