import { metrics, type Attributes, type BatchObservableResult, type MeterProvider } from '@opentelemetry/api';
import { invalidOption, rejectUnknownOptions, type Pool, type PoolEvents, type PoolNode } from '@pool/core';
import { NODE, POOL_NAME, STATE, instrumentsOf } from './instruments.js';

/** What observePool needs of a pool: any pool of the family. */
export type ObservablePool = Pick<Pool<unknown, PoolNode>, 'stats' | 'on' | 'off'>;

export interface ObservePoolOptions {
  /** Where the instruments are created; default the global one (`metrics.getMeterProvider()`), read now. */
  meterProvider?: MeterProvider;
  /** The `db.client.connection.pool.name` attribute; default the pool's `stats().name`. */
  name?: string;
}

export interface PoolObservation {
  /** Stops recording and observing this pool; its instruments stay for other pools. Idempotent. */
  stop(): void;
}

/** The instrumentation scope of every instrument. */
export const METER_NAME = '@pool/otel';

const OPTION_NAMES = ['meterProvider', 'name'];

/**
 * Records OpenTelemetry's database client connection metrics for a pool, with the semantic
 * conventions' names, instruments and units: the observable UpDownCounters
 * `db.client.connection.count` (per node and state), `.idle.max`, `.idle.min`, `.max` and
 * `.pending_requests` (per node) read from one `stats()` per collection; the Counter `.timeouts`
 * and the Histograms `.create_time`, `.wait_time`, `.use_time` (seconds) fed by the pool's events.
 */
export function observePool(pool: ObservablePool, options: ObservePoolOptions = {}): PoolObservation {
  if (pool === null || typeof pool !== 'object' || typeof pool.stats !== 'function' || typeof pool.on !== 'function') {
    throw invalidOption('pool', typeof pool, 'must be a pool of @pool/core (with stats() and on())');
  }
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'must be an object');
  rejectUnknownOptions(options, OPTION_NAMES);
  const provider = options.meterProvider ?? metrics.getMeterProvider();
  if (provider === null || typeof provider !== 'object' || typeof provider.getMeter !== 'function') {
    throw invalidOption('meterProvider', typeof provider, 'must be an OpenTelemetry MeterProvider (with getMeter())');
  }
  const name = options.name ?? pool.stats().name;
  if (typeof name !== 'string' || name === '') throw invalidOption('name', name, 'must be a non-empty string');

  const meter = provider.getMeter(METER_NAME);
  const instruments = instrumentsOf(meter);
  const { count, idleMax, idleMin, max, pendingRequests } = instruments;
  // Built once: the histograms and the counter record with no allocation of their own.
  const poolAttributes: Attributes = Object.freeze({ [POOL_NAME]: name });

  const observe = (result: BatchObservableResult): void => {
    const stats = pool.stats();
    let namedWaiting = 0;
    for (const [node, nodeStats] of Object.entries(stats.nodes)) {
      result.observe(count, nodeStats.idle, { [POOL_NAME]: name, [STATE]: 'idle', [NODE]: node });
      result.observe(count, nodeStats.active, { [POOL_NAME]: name, [STATE]: 'used', [NODE]: node });
      result.observe(pendingRequests, nodeStats.waiting, { [POOL_NAME]: name, [NODE]: node });
      namedWaiting += nodeStats.waiting;
    }
    // Waiters any node may serve belong to no node yet: one series without pool.node, so the
    // series still sum to the pool's figure.
    result.observe(pendingRequests, stats.waiting - namedWaiting, poolAttributes);
    result.observe(max, stats.max, poolAttributes);
    result.observe(idleMax, stats.max, poolAttributes);
    result.observe(idleMin, stats.minIdle, poolAttributes);
  };
  const onAcquire = (event: PoolEvents['acquire']): void => instruments.waitTime.record(event.waitMs / 1000, poolAttributes);
  const onRelease = (event: PoolEvents['release']): void => instruments.useTime.record(event.heldMs / 1000, poolAttributes);
  const onCreate = (event: PoolEvents['create']): void => instruments.createTime.record(event.durationMs / 1000, poolAttributes);
  const onTimeout = (): void => instruments.timeouts.add(1, poolAttributes);

  const observables = [count, idleMax, idleMin, max, pendingRequests];
  meter.addBatchObservableCallback(observe, observables);
  pool.on('acquire', onAcquire).on('release', onRelease).on('create', onCreate).on('timeout', onTimeout);
  let isObserving = true;
  return {
    stop() {
      if (!isObserving) return;
      isObserving = false;
      meter.removeBatchObservableCallback(observe, observables);
      pool.off('acquire', onAcquire).off('release', onRelease).off('create', onCreate).off('timeout', onTimeout);
    },
  };
}
