export { FakeClock, flushPromises } from './clock.js';
export { trackingFactory } from './tracking.js';
export type { FakeConnection, TrackingFactory, TrackingOptions } from './tracking.js';
export { invalidOptionsError } from './options.js';
