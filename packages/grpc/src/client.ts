import * as grpc from '@grpc/grpc-js';
import { CallLease, serviceError } from './call-lease.js';
import type { CallContext } from './call-lease.js';
import {
  DeferredDuplexCall,
  DeferredReadableCall,
  DeferredUnaryCall,
  DeferredWritableCall,
} from './deferred-calls.js';
import type { CallControls } from './deferred-calls.js';
import { clientControls, closedClientError, CONTROL_NAMES } from './client-controls.js';
import type { HandleState, PooledClientControls } from './client-controls.js';

/**
 * The generated client's call methods, minus `grpc.Client`'s own (make*Request...), plus
 * `waitForReady`, `getChannel` and `close` with their pooled meaning ({@link PooledClientControls}).
 */
export type PooledClient<T> = Omit<T, keyof grpc.Client> & PooledClientControls;

type MethodDefinition = grpc.MethodDefinition<unknown, unknown>;
type UnaryCallback = grpc.requestCallback<unknown>;
export type Method = (...args: unknown[]) => unknown;

const FORBIDDEN_NAMES = new Set(['__proto__', 'prototype', 'constructor']);

function incorrectArguments(): Error {
  return new Error('Incorrect arguments passed');
}

/** Same rules as grpc-js: ([metadata], [options], callback). */
function unaryArguments(
  arg1: unknown,
  arg2: unknown,
  arg3: unknown,
): { metadata: grpc.Metadata; options: grpc.CallOptions; callback: UnaryCallback } {
  if (typeof arg1 === 'function') return { metadata: new grpc.Metadata(), options: {}, callback: arg1 as UnaryCallback };
  if (typeof arg2 === 'function') {
    if (arg1 instanceof grpc.Metadata) return { metadata: arg1, options: {}, callback: arg2 as UnaryCallback };
    return { metadata: new grpc.Metadata(), options: (arg1 ?? {}) as grpc.CallOptions, callback: arg2 as UnaryCallback };
  }
  if (!(arg1 instanceof grpc.Metadata) || typeof arg3 !== 'function') throw incorrectArguments();
  return { metadata: arg1, options: (arg2 ?? {}) as grpc.CallOptions, callback: arg3 as UnaryCallback };
}

/** Same rules as grpc-js: ([metadata], [options]). */
function streamArguments(arg1: unknown, arg2: unknown): { metadata: grpc.Metadata; options: grpc.CallOptions } {
  if (arg1 instanceof grpc.Metadata) return { metadata: arg1, options: (arg2 ?? {}) as grpc.CallOptions };
  return { metadata: new grpc.Metadata(), options: (arg1 ?? {}) as grpc.CallOptions };
}

/**
 * Returns `surface` at once and leases a channel for it: `makeCall` starts the real call on the
 * channel's client; a failure before that goes to `callback` (unary responses) and then the surface.
 */
function leaseCall<Surface extends CallControls>(
  context: CallContext,
  surface: Surface,
  { deadline }: grpc.CallOptions,
  metadata: grpc.Metadata,
  makeCall: (client: grpc.Client, lease: CallLease) => grpc.ClientUnaryCall,
  callback?: UnaryCallback,
): Surface {
  const lease = new CallLease(
    context,
    (client) => surface.attach(makeCall(client, lease)),
    (status, cause) => {
      const error = serviceError(status, cause);
      callback?.(error);
      surface.fail(error, status);
    },
  );
  surface.lease = lease;
  // grpc-js's wait-for-ready call option lives on the metadata; it also covers the wait for a channel.
  lease.start(deadline, metadata.getOptions().waitForReady === true);
  return surface;
}

/** A call with a response callback holds its channel until the callback. */
function releasingCallback(lease: CallLease, callback: UnaryCallback): UnaryCallback {
  return (error, response) => {
    lease.release();
    callback(error, response);
  };
}

/** A call streaming its responses holds its channel until its status. */
function releasedOnStatus<Real extends grpc.ClientUnaryCall>(lease: CallLease, real: Real): Real {
  real.on('status', () => lease.release());
  return real;
}

function unaryMethod({ path, requestSerialize, responseDeserialize }: MethodDefinition, context: CallContext): Method {
  return (request: unknown, arg1?: unknown, arg2?: unknown, arg3?: unknown) => {
    const { metadata, options, callback } = unaryArguments(arg1, arg2, arg3);
    const makeCall = (client: grpc.Client, lease: CallLease) => {
      const onResponse = releasingCallback(lease, callback);
      return client.makeUnaryRequest(path, requestSerialize, responseDeserialize, request, metadata, options, onResponse);
    };
    return leaseCall(context, new DeferredUnaryCall(), options, metadata, makeCall, callback);
  };
}

function serverStreamMethod({ path, requestSerialize, responseDeserialize }: MethodDefinition, context: CallContext): Method {
  return (request: unknown, arg1?: unknown, arg2?: unknown) => {
    const { metadata, options } = streamArguments(arg1, arg2);
    const makeCall = (client: grpc.Client, lease: CallLease) =>
      releasedOnStatus(lease, client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, request, metadata, options));
    return leaseCall(context, new DeferredReadableCall(responseDeserialize), options, metadata, makeCall);
  };
}

function clientStreamMethod({ path, requestSerialize, responseDeserialize }: MethodDefinition, context: CallContext): Method {
  return (arg1?: unknown, arg2?: unknown, arg3?: unknown) => {
    // The callback-last rules of unary calls, without the request.
    const { metadata, options, callback } = unaryArguments(arg1, arg2, arg3);
    const makeCall = (client: grpc.Client, lease: CallLease) => {
      const onResponse = releasingCallback(lease, callback);
      return client.makeClientStreamRequest(path, requestSerialize, responseDeserialize, metadata, options, onResponse);
    };
    return leaseCall(context, new DeferredWritableCall(requestSerialize), options, metadata, makeCall, callback);
  };
}

function bidiStreamMethod({ path, requestSerialize, responseDeserialize }: MethodDefinition, context: CallContext): Method {
  return (arg1?: unknown, arg2?: unknown) => {
    const { metadata, options } = streamArguments(arg1, arg2);
    const makeCall = (client: grpc.Client, lease: CallLease) =>
      releasedOnStatus(lease, client.makeBidiStreamRequest(path, requestSerialize, responseDeserialize, metadata, options));
    return leaseCall(context, new DeferredDuplexCall(requestSerialize, responseDeserialize), options, metadata, makeCall);
  };
}

export function pooledMethod(definition: MethodDefinition, context: CallContext): Method {
  if (definition.requestStream && definition.responseStream) return bidiStreamMethod(definition, context);
  if (definition.requestStream) return clientStreamMethod(definition, context);
  if (definition.responseStream) return serverStreamMethod(definition, context);
  return unaryMethod(definition, context);
}

/**
 * An object with the service's methods (by name and by `originalName`, as generated clients have),
 * each leasing a pooled channel per call.
 */
export function buildPooledClient<T>(service: grpc.ServiceDefinition, context: CallContext, onClose?: () => void): PooledClient<T> {
  const client: Record<string, Method> = {};
  const state: HandleState = { isClosed: false };
  for (const [name, definition] of Object.entries(service)) {
    if (FORBIDDEN_NAMES.has(name)) continue;
    const method = refusedOnceClosed(pooledMethod(definition as MethodDefinition, context), state);
    client[name] = method;
    const { originalName } = definition as { originalName?: string };
    if (originalName && !FORBIDDEN_NAMES.has(originalName) && !(originalName in client)) client[originalName] = method;
  }
  // A service method named like a control keeps its name, as on a grpc-js generated client.
  const controls = clientControls(context, state, onClose);
  for (const name of CONTROL_NAMES) if (!(name in client)) client[name] = controls[name] as Method;
  return client as unknown as PooledClient<T>;
}

/** Fixed arity, no rest array: this runs on every call. */
function refusedOnceClosed(method: Method, state: HandleState): Method {
  return (arg0?: unknown, arg1?: unknown, arg2?: unknown, arg3?: unknown) => {
    if (state.isClosed) throw closedClientError();
    return method(arg0, arg1, arg2, arg3);
  };
}
