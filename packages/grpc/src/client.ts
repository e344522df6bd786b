import * as grpc from '@grpc/grpc-js';
import { CallLease, serviceError } from './call-lease.js';
import type { CallContext } from './call-lease.js';
import {
  DeferredDuplexCall,
  DeferredReadableCall,
  DeferredUnaryCall,
  DeferredWritableCall,
} from './deferred-calls.js';

/** The generated client's call methods, minus `grpc.Client`'s own (close, getChannel, waitForReady, make*Request). */
export type PooledClient<T> = Omit<T, keyof grpc.Client>;

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

function unaryMethod(definition: MethodDefinition, context: CallContext): Method {
  return (request: unknown, arg1?: unknown, arg2?: unknown, arg3?: unknown) => {
    const { metadata, options, callback } = unaryArguments(arg1, arg2, arg3);
    const surface = new DeferredUnaryCall();
    const lease = new CallLease(
      context,
      (client) => {
        const real = client.makeUnaryRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          request,
          metadata,
          options,
          (error, response) => {
            lease.release();
            callback(error, response);
          },
        );
        surface.attach(real);
      },
      (status, cause) => {
        callback(serviceError(status, cause));
        surface.emit('status', status);
      },
    );
    surface.lease = lease;
    lease.start(options.deadline);
    return surface;
  };
}

function serverStreamMethod(definition: MethodDefinition, context: CallContext): Method {
  return (request: unknown, arg1?: unknown, arg2?: unknown) => {
    const { metadata, options } = streamArguments(arg1, arg2);
    const surface = new DeferredReadableCall(definition.responseDeserialize);
    const lease = new CallLease(
      context,
      (client) => {
        const real = client.makeServerStreamRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          request,
          metadata,
          options,
        );
        real.on('status', () => lease.release());
        surface.attach(real);
      },
      (status, cause) => surface.fail(serviceError(status, cause), status),
    );
    surface.lease = lease;
    lease.start(options.deadline);
    return surface;
  };
}

function clientStreamMethod(definition: MethodDefinition, context: CallContext): Method {
  return (arg1?: unknown, arg2?: unknown, arg3?: unknown) => {
    // The callback-last rules of unary calls, without the request.
    const { metadata, options, callback } = unaryArguments(arg1, arg2, arg3);
    const surface = new DeferredWritableCall(definition.requestSerialize);
    const lease = new CallLease(
      context,
      (client) => {
        const real = client.makeClientStreamRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          metadata,
          options,
          (error, response) => {
            lease.release();
            callback(error, response);
          },
        );
        surface.attach(real);
      },
      (status, cause) => {
        callback(serviceError(status, cause));
        surface.fail(status);
      },
    );
    surface.lease = lease;
    lease.start(options.deadline);
    return surface;
  };
}

function bidiStreamMethod(definition: MethodDefinition, context: CallContext): Method {
  return (arg1?: unknown, arg2?: unknown) => {
    const { metadata, options } = streamArguments(arg1, arg2);
    const surface = new DeferredDuplexCall(definition.requestSerialize, definition.responseDeserialize);
    const lease = new CallLease(
      context,
      (client) => {
        const real = client.makeBidiStreamRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          metadata,
          options,
        );
        real.on('status', () => lease.release());
        surface.attach(real);
      },
      (status, cause) => surface.fail(serviceError(status, cause), status),
    );
    surface.lease = lease;
    lease.start(options.deadline);
    return surface;
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
export function buildPooledClient<T>(service: grpc.ServiceDefinition, context: CallContext): PooledClient<T> {
  const client: Record<string, Method> = {};
  for (const [name, definition] of Object.entries(service)) {
    if (FORBIDDEN_NAMES.has(name)) continue;
    const method = pooledMethod(definition as MethodDefinition, context);
    client[name] = method;
    const { originalName } = definition as { originalName?: string };
    if (originalName && !FORBIDDEN_NAMES.has(originalName) && !(originalName in client)) client[originalName] = method;
  }
  return client as PooledClient<T>;
}
