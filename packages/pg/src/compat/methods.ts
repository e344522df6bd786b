import { type Callback, type Checkout, type PoolClientWithRelease } from './callbacks.js';
import { FUNCTION_AS_QUERY } from './errors.js';

/** What pg.Pool's methods need from the facade. */
export interface CompatCore {
  checkout(done: Checkout, mayCallNow: boolean): void;
  finishEnd(callback: (error?: Error) => void): void;
  countTotal(): number;
  countIdle(): number;
  countWaiting(): number;
  countExpired(): number;
}

/** `pool.query`, pg-pool's way: check out, run, release (with the query's error, if any). */
function runQuery(pool: CompatCore, text: unknown, values: unknown, done: (error: unknown, result?: unknown) => void): void {
  pool.checkout((error, client) => {
    if (error || !client) {
      done(error);
      return;
    }
    let isFinished = false;
    const finish = (queryError?: unknown, result?: unknown) => {
      if (isFinished) return;
      isFinished = true;
      try {
        client.release?.(queryError as Error | undefined);
      } finally {
        done(queryError, result);
      }
    };
    try {
      const query = (client.query as (t: unknown, v: unknown, cb: Callback) => unknown).call(client, text, values, finish as Callback);
      // pg-cursor never calls a submittable's callback: its end (or error) gives the client back.
      if (query !== undefined && typeof (query as { once?: unknown }).once === 'function' && typeof (text as { submit?: unknown }).submit === 'function') {
        const emitter = query as { once(event: string, listener: (error?: unknown) => void): void };
        emitter.once('end', () => finish());
        emitter.once('error', (streamError) => finish(streamError));
      }
    } catch (queryError) {
      finish(queryError);
    }
  }, true);
}


// connect, query and end keep pg.Pool's own declared types (so the facade type-checks wherever a
// pg.Pool is expected); their bodies are this package's.
const NOOP = () => undefined;
type CompatThis = CompatCore & { Promise: PromiseConstructor };

function connect(this: CompatThis, callback?: (error: unknown, client?: PoolClientWithRelease, done?: unknown) => void): unknown {
  if (typeof callback === 'function') {
    this.checkout((error, client) => callback(error, client, client ? (client as PoolClientWithRelease).release : NOOP), false);
    return undefined;
  }
  return new this.Promise((resolve, reject) => this.checkout((error, client) => (error ? reject(error) : resolve(client)), true));
}

function query(this: CompatThis, text: unknown, values?: unknown, callback?: unknown): unknown {
  if (typeof text === 'function') {
    const done = text as (error: Error) => void;
    setImmediate(() => done(new Error(FUNCTION_AS_QUERY)));
    return undefined;
  }
  if (typeof values === 'function') {
    callback = values;
    values = undefined;
  }
  if (typeof callback === 'function') {
    runQuery(this, text, values, callback as (error: unknown, result?: unknown) => void);
    return undefined;
  }
  return new this.Promise((resolve, reject) => runQuery(this, text, values, (error, result) => (error ? reject(error) : resolve(result))));
}

function end(this: CompatThis, callback?: (error?: Error) => void): unknown {
  if (typeof callback === 'function') {
    this.finishEnd(callback);
    return undefined;
  }
  return new this.Promise<void>((resolve, reject) => this.finishEnd((error) => (error ? reject(error) : resolve())));
}

const getter = (read: (pool: CompatCore) => number) => ({
  get(this: CompatCore) {
    return read(this);
  },
  configurable: true,
});

/** Puts pg.Pool's methods and counters on the facade's prototype. */
export function installPgPoolMethods(prototype: CompatCore): void {
  Object.defineProperties(prototype, {
  totalCount: getter((pool) => pool.countTotal()),
  idleCount: getter((pool) => pool.countIdle()),
  waitingCount: getter((pool) => pool.countWaiting()),
  expiredCount: getter((pool) => pool.countExpired()),
  connect: { value: connect, writable: true, configurable: true },
  query: { value: query, writable: true, configurable: true },
  end: { value: end, writable: true, configurable: true },
});
}
