import type { Counter, Histogram, Meter, ObservableUpDownCounter } from '@opentelemetry/api';

/** Attribute names of the semantic conventions (db.client.connection.*), and the node's. */
export const POOL_NAME = 'db.client.connection.pool.name';
export const STATE = 'db.client.connection.state';
export const NODE = 'pool.node';

/** The conventions' advice for connection-pool durations, in seconds. */
export const SECONDS_BUCKETS: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);

/** The instruments of the `db.client.connection.*` conventions, one set per meter. */
export interface PoolInstruments {
  count: ObservableUpDownCounter;
  idleMax: ObservableUpDownCounter;
  idleMin: ObservableUpDownCounter;
  max: ObservableUpDownCounter;
  pendingRequests: ObservableUpDownCounter;
  timeouts: Counter;
  createTime: Histogram;
  waitTime: Histogram;
  useTime: Histogram;
}

const byMeter = new WeakMap<Meter, PoolInstruments>();

function seconds(meter: Meter, name: string, description: string): Histogram {
  return meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } });
}

/** The instruments on `meter`, created once: every pool observed through it shares them. */
export function instrumentsOf(meter: Meter): PoolInstruments {
  let instruments = byMeter.get(meter);
  if (instruments !== undefined) return instruments;
  instruments = {
    count: meter.createObservableUpDownCounter('db.client.connection.count', {
      unit: '{connection}',
      description: 'The number of connections that are currently in state described by the state attribute.',
    }),
    idleMax: meter.createObservableUpDownCounter('db.client.connection.idle.max', {
      unit: '{connection}',
      description: 'The maximum number of idle open connections allowed.',
    }),
    idleMin: meter.createObservableUpDownCounter('db.client.connection.idle.min', {
      unit: '{connection}',
      description: 'The minimum number of idle open connections allowed.',
    }),
    max: meter.createObservableUpDownCounter('db.client.connection.max', {
      unit: '{connection}',
      description: 'The maximum number of open connections allowed.',
    }),
    pendingRequests: meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      unit: '{request}',
      description: 'The number of current pending requests for an open connection.',
    }),
    timeouts: meter.createCounter('db.client.connection.timeouts', {
      unit: '{timeout}',
      description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
    }),
    createTime: seconds(meter, 'db.client.connection.create_time', 'The time it took to create a new connection.'),
    waitTime: seconds(meter, 'db.client.connection.wait_time', 'The time it took to obtain an open connection from the pool.'),
    useTime: seconds(meter, 'db.client.connection.use_time', 'The time between borrowing a connection and returning it to the pool.'),
  };
  byMeter.set(meter, instruments);
  return instruments;
}
