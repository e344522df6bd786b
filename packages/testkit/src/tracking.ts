import type { ConnectionFactory, CreateContext, PoolNode } from '@pool/core';

export interface FakeConnection {
  id: number;
  node: string;
  isDestroyed: boolean;
  /** Set by the test to make validate() answer false. */
  isBad: boolean;
  invalidate: (reason?: unknown) => void;
}

export interface TrackingFactory extends ConnectionFactory<FakeConnection, PoolNode> {
  /** Every connection created, in order. */
  readonly created: FakeConnection[];
  readonly destroyed: FakeConnection[];
  readonly live: Set<FakeConnection>;
  /** Creates that have started, failed ones included. */
  createCalls: number;
  /** Nodes whose creates fail until set back to false. */
  readonly failingNodes: Set<string>;
  /** When set, create waits for this promise before answering. */
  gate: Promise<void> | undefined;
  validateCalls: number;
  resetCalls: number;
}

export interface TrackingOptions {
  /** Delay of create in real ms (0 = next microtask). */
  createDelayMs?: number;
  withValidate?: boolean;
  withReset?: boolean;
  /** Make create ignore its abort signal, to test that the pool still does not hang. */
  ignoreSignal?: boolean;
}

/**
 * An in-memory factory that records what the pool does with it. For engine tests only: the
 * transport packages test against real servers.
 */
export function trackingFactory(options: TrackingOptions = {}): TrackingFactory {
  let nextId = 1;
  const factory: TrackingFactory = {
    created: [],
    destroyed: [],
    live: new Set(),
    createCalls: 0,
    failingNodes: new Set(),
    gate: undefined,
    validateCalls: 0,
    resetCalls: 0,
    async create(node: PoolNode, ctx: CreateContext): Promise<FakeConnection> {
      factory.createCalls++;
      if (factory.gate) await factory.gate;
      if (options.createDelayMs) await abortableDelay(options.createDelayMs, options.ignoreSignal ? undefined : ctx.signal);
      if (!options.ignoreSignal && ctx.signal.aborted) throw ctx.signal.reason;
      if (factory.failingNodes.has(node.id)) throw new Error(`connect ECONNREFUSED ${node.id}`);
      const connection: FakeConnection = { id: nextId++, node: node.id, isDestroyed: false, isBad: false, invalidate: ctx.invalidate };
      factory.created.push(connection);
      factory.live.add(connection);
      return connection;
    },
    destroy(connection: FakeConnection): void {
      if (connection.isDestroyed) throw new Error(`connection ${connection.id} destroyed twice`);
      connection.isDestroyed = true;
      factory.destroyed.push(connection);
      factory.live.delete(connection);
    },
  };
  if (options.withValidate) {
    factory.validate = (connection) => {
      factory.validateCalls++;
      return !connection.isBad && !connection.isDestroyed;
    };
  }
  if (options.withReset) {
    factory.reset = () => {
      factory.resetCalls++;
    };
  }
  return factory;
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
