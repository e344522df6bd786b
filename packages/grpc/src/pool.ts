import * as grpc from '@grpc/grpc-js';
import { checkCallTimeout, createPool, rejectUnknownOptions } from '@pool/core';
import type { AcquireOptions, Lease, Pool } from '@pool/core';
import type { CallContext } from './call-lease.js';
import { ChannelClients } from './channel-clients.js';
import type { GrpcClientConstructor } from './channel-clients.js';
import { buildPooledClient, pooledMethod } from './client.js';
import type { PooledClient } from './client.js';
import { createChannelFactory } from './factory.js';
import { checkGrpcNode, DEFAULT_MAX_LEASES_PER_CHANNEL, resolveGrpcOptions } from './options.js';
import type { GrpcNode, GrpcPoolOptions } from './options.js';

const DEFAULT_ACQUIRE_TIMEOUT_MS = 30_000;

/** Per-call option names: a misspelled one (`aquire`, `timeoutMS`) is refused, not silently ignored. */
const ACQUIRE_OPTION_NAMES = new Set<string>(['node', 'affinityKey', 'partition', 'priority', 'signal', 'timeoutMs'] satisfies (keyof AcquireOptions)[]);
const CLIENT_OPTION_NAMES = new Set<string>(['acquire'] satisfies (keyof PooledClientOptions)[]);
const UNARY_OPTION_NAMES = new Set<string>(['acquire', 'metadata', 'callOptions', 'signal'] satisfies (keyof GrpcUnaryOptions)[]);

export interface PooledClientOptions {
  /** Acquire options for every call of this client: partition, priority, node, affinityKey, timeoutMs, signal. */
  acquire?: AcquireOptions;
}

export interface GrpcUnaryOptions extends PooledClientOptions {
  metadata?: grpc.Metadata;
  /** grpc-js call options: `deadline` (it also bounds the wait for a channel), `credentials`, ... */
  callOptions?: grpc.CallOptions;
  /** Cancels the call (CANCELLED), also while it waits for a channel. */
  signal?: AbortSignal;
}

type UnaryCallback<R> = (error: grpc.ServiceError | null, response?: R) => void;
type FullUnaryMethod<Q, R> = (
  request: Q,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: UnaryCallback<R>,
) => grpc.ClientUnaryCall;

/** The request type of a generated unary method (its last, fullest overload). */
export type UnaryRequest<F> = F extends FullUnaryMethod<infer Q, infer _R> ? Q : unknown;
/** The response type of a generated unary method. */
export type UnaryResponse<F> = F extends FullUnaryMethod<infer _Q, infer R> ? R : unknown;

/** Method names of a generated client (without grpc.Client's own). */
export type ClientMethodName<T> = Exclude<keyof T, keyof grpc.Client> & string;

export interface GrpcPool<N extends GrpcNode = GrpcNode> extends Pool<grpc.Channel, N> {
  /**
   * An object with the methods of `Ctor`'s generated client. Unary and client-streaming calls lease
   * a channel for the call and release it when the callback runs; server and bidi streams hold it
   * until the call's status arrives (end, error or cancel). Built once per constructor when no
   * options are given.
   */
  client<T extends grpc.Client>(Ctor: GrpcClientConstructor<T>, options?: PooledClientOptions): PooledClient<T>;
  /** One unary call, promise style: resolves with the response, rejects with the grpc `ServiceError`. */
  unary<T extends grpc.Client, K extends ClientMethodName<T>>(
    Ctor: GrpcClientConstructor<T>,
    method: K,
    request: UnaryRequest<T[K]>,
    options?: GrpcUnaryOptions,
  ): Promise<UnaryResponse<T[K]>>;
  /** A `Ctor` client over a leased channel (made once per channel), for `acquire()` / `use()` users. */
  clientFor<T extends grpc.Client>(lease: Lease<grpc.Channel, N> | grpc.Channel, Ctor: GrpcClientConstructor<T>): T;
}

/**
 * A pool of grpc-js channels over one or more servers. Each channel is its own HTTP/2 connection
 * and carries up to `maxLeasesPerConnection` (default 100) calls at once.
 */
export function createGrpcPool<N extends GrpcNode = GrpcNode>(options: GrpcPoolOptions<N>): GrpcPool<N> {
  const resolved = resolveGrpcOptions(options);
  const {
    credentials: _credentials,
    channelOptions: _channelOptions,
    validationTimeoutMs: _validationTimeoutMs,
    healthCheck: _healthCheck,
    ...poolOptions
  } = options;
  const clients = new ChannelClients(resolved.credentials);
  const pool = createPool<grpc.Channel, N>({
    ...poolOptions,
    name: options.name ?? options.nodes[0]?.target ?? 'pool',
    maxLeasesPerConnection: options.maxLeasesPerConnection ?? DEFAULT_MAX_LEASES_PER_CHANNEL,
    factory: createChannelFactory<N>(resolved, clients),
  });
  const poolAcquireTimeoutMs = options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS;
  const contextFor = (acquire: AcquireOptions | undefined): CallContext => {
    if (acquire !== undefined) rejectUnknownOptions(acquire, ACQUIRE_OPTION_NAMES, 'acquire.');
    return {
      pool: pool as unknown as Pool<grpc.Channel, GrpcNode>,
      clients,
      acquireOptions: acquire,
      // NaN or '50' would never time out: refused like a bad pool option.
      acquireTimeoutMs: checkCallTimeout('acquire.timeoutMs', acquire?.timeoutMs) ?? poolAcquireTimeoutMs,
    };
  };
  const defaultContext = contextFor(undefined);
  const cachedClients = new WeakMap<object, unknown>();

  function client<T extends grpc.Client>(Ctor: GrpcClientConstructor<T>, clientOptions?: PooledClientOptions): PooledClient<T> {
    const service = (Ctor as { service?: unknown } | undefined)?.service;
    if (typeof service !== 'object' || service === null) {
      throw new TypeError('pool.client(Ctor): Ctor must be a generated client constructor with a static `service` definition');
    }
    if (clientOptions !== undefined) rejectUnknownOptions(clientOptions, CLIENT_OPTION_NAMES);
    if (clientOptions?.acquire !== undefined) {
      return buildPooledClient<T>(service as grpc.ServiceDefinition, contextFor(clientOptions.acquire));
    }
    let pooled = cachedClients.get(Ctor) as PooledClient<T> | undefined;
    if (!pooled) {
      // A closed handle leaves the cache: the next pool.client(Ctor) is a new, open one.
      const built: PooledClient<T> = buildPooledClient<T>(service as grpc.ServiceDefinition, defaultContext,
        () => { if (cachedClients.get(Ctor) === built) cachedClients.delete(Ctor); });
      pooled = built;
      cachedClients.set(Ctor, pooled);
    }
    return pooled;
  }

  function unary<T extends grpc.Client, K extends ClientMethodName<T>>(
    Ctor: GrpcClientConstructor<T>,
    method: K,
    request: UnaryRequest<T[K]>,
    unaryOptions: GrpcUnaryOptions = {},
  ): Promise<UnaryResponse<T[K]>> {
    const definition = Ctor.service[method] as grpc.MethodDefinition<unknown, unknown> | undefined;
    const byOriginalName = Object.entries(Ctor.service).find(([, d]) => (d as { originalName?: string }).originalName === method);
    const found = definition ?? (byOriginalName?.[1] as grpc.MethodDefinition<unknown, unknown> | undefined);
    if (!found || found.requestStream || found.responseStream) {
      return Promise.reject(new TypeError(`pool.unary: ${String(method)} is not a unary method of the service`));
    }
    let context: CallContext;
    try {
      rejectUnknownOptions(unaryOptions, UNARY_OPTION_NAMES);
      context = unaryOptions.acquire === undefined ? defaultContext : contextFor(unaryOptions.acquire);
    } catch (error) {
      return Promise.reject(error);
    }
    const pooledCall = pooledMethod(found, context);
    const { signal } = unaryOptions;
    return new Promise((resolve, reject) => {
      const callback: UnaryCallback<unknown> = (error, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response as UnaryResponse<T[K]>);
      };
      const call = pooledCall(request, unaryOptions.metadata ?? new grpc.Metadata(), unaryOptions.callOptions ?? {}, callback) as grpc.ClientUnaryCall;
      const onAbort = () => call.cancel();
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function clientFor<T extends grpc.Client>(lease: Lease<grpc.Channel, N> | grpc.Channel, Ctor: GrpcClientConstructor<T>): T {
    const channel = lease instanceof grpc.Channel ? lease : lease.connection;
    return clients.generated(channel, Ctor);
  }

  const addNode = pool.addNode.bind(pool);
  // Nodes added at run time get the same target check as the ones given up front.
  return Object.assign(pool, {
    client,
    unary,
    clientFor,
    addNode(node: N): void {
      checkGrpcNode(node, 'node');
      addNode(node);
    },
  });
}
