import { Pool } from './pool.js';
import { DefaultEvictor } from './evictor.js';
import { ResourceCreationError, TimeoutError } from './errors.js';
import type { Factory, Options } from './options.js';

/** generic-pool's way in: a pool of the factory's resources, started unless `autostart: false`. */
export function createPool<T>(factory: Factory<T>, options?: Options): Pool<T> {
  return new Pool<T>(DefaultEvictor, undefined, undefined, factory, options);
}

export { Pool, DefaultEvictor, ResourceCreationError, TimeoutError };
export type { CoreAcquireOptions } from './pool.js';
export type { CoreExtension, Factory, Options, PromiseLibrary } from './options.js';
export type { EvictionConfig, Evictor, PooledResource } from './evictor.js';
export { PoolError, isPoolError } from '@pool/core';

/** `import genericPool from '@pool/generic-pool'`, as `require('generic-pool')` gives the module object. */
export default { createPool, Pool, DefaultEvictor, ResourceCreationError, TimeoutError };
