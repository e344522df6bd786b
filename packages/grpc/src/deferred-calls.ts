import { EventEmitter } from 'node:events';
import { Duplex, Readable, Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import type { CallLease } from './call-lease.js';

/*
 * What a pooled method returns at once, before a channel is leased: the same surface as grpc-js's
 * call objects (events 'metadata' and 'status', cancel(), getPeer(), the stream side), wired to the
 * real call once it starts. cancel() while waiting aborts the acquire and reports CANCELLED the
 * way grpc-js does, so a cancelled call never holds a lease.
 *
 * The four kinds extend four different Node classes (EventEmitter, Readable, Writable, Duplex), so
 * what they share is added by mixins, each written once: `deferredCall` (every kind), `withResponses`
 * (the read side: server and bidi streaming) and `withRequests` (the write side: client and bidi).
 */

type RealCall = grpc.ClientUnaryCall;
type RealReadable = grpc.ClientReadableStream<unknown>;
type RealWritable = grpc.ClientWritableStream<unknown>;
type AuthContext = ReturnType<grpc.ClientUnaryCall['getAuthContext']>;
type WriteCallback = (error?: Error | null) => void;

// TypeScript requires a mixin's base constructor to take `...args: any[]` (TS2545).
type Constructor<T> = new (...args: any[]) => T;

/** What every kind adds to its Node class: the lease while it waits for a channel, then the real call. */
export interface CallControls {
  lease: CallLease | undefined;
  real: RealCall | undefined;
  /** Wires the surface to the real call once it started on a leased channel. */
  attach(real: RealCall): void;
  /** The call failed before it reached a channel (`error` also went to a unary callback, if any). */
  fail(error: grpc.ServiceError, status: grpc.StatusObject): void;
  cancel(): void;
  getPeer(): string;
  getAuthContext(): AuthContext;
}

/** A deferred call over a `Base` stream: what `withResponses` and `withRequests` build on. */
type DeferredCallOf<Base> = Constructor<Base & CallControls>;

function deferredCall<Base extends Constructor<EventEmitter>>(base: Base): Base & Constructor<CallControls> {
  return class DeferredCall extends base implements CallControls {
    lease: CallLease | undefined;
    real: RealCall | undefined;

    attach(real: RealCall): void {
      this.real = real;
      real.on('metadata', (metadata: grpc.Metadata) => this.emit('metadata', metadata));
      real.on('status', (status: grpc.StatusObject) => this.emit('status', status));
    }

    fail(_error: grpc.ServiceError, status: grpc.StatusObject): void {
      this.emit('status', status);
    }

    cancel(): void {
      if (this.real) this.real.cancel();
      else this.lease?.cancel();
    }

    getPeer(): string {
      return this.real?.getPeer() ?? 'unknown';
    }

    getAuthContext(): AuthContext {
      return this.real?.getAuthContext() ?? null;
    }
  };
}

/** The read side: a Readable fed by the real call, with its backpressure. */
function withResponses<Base extends DeferredCallOf<Readable>>(base: Base): Base {
  return class WithResponses extends base {
    declare real: RealReadable | undefined;

    override attach(real: RealReadable): void {
      super.attach(real);
      real.on('data', (message: unknown) => {
        if (!this.push(message)) real.pause();
      });
      real.on('end', () => this.push(null));
      real.on('error', (error: grpc.ServiceError) => {
        // A stream the user destroyed has nobody left to tell.
        if (!this.destroyed) this.emit('error', error);
      });
    }

    /** Ends the way grpc-js ends a failed stream. */
    override fail(error: grpc.ServiceError, status: grpc.StatusObject): void {
      if (this.destroyed) return;
      this.push(null);
      this.emit('error', error);
      super.fail(error, status);
    }

    override _read(): void {
      this.real?.resume();
    }

    override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
      this.cancel();
      callback(error);
    }
  };
}

/** Holds writes and the end of the request stream until the real call exists. */
class PendingWrites {
  private write: { chunk: unknown; callback: WriteCallback } | undefined;
  private final: WriteCallback | undefined;
  private real: RealWritable | undefined;
  private isDropped = false;

  onWrite(chunk: unknown, callback: WriteCallback): void {
    if (this.isDropped) return callback();
    if (this.real) {
      this.real.write(chunk, callback);
      return;
    }
    this.write = { chunk, callback };
  }

  onFinal(callback: WriteCallback): void {
    if (this.isDropped) return callback();
    if (this.real) {
      this.real.end();
      callback();
      return;
    }
    this.final = callback;
  }

  attach(real: RealWritable): void {
    this.real = real;
    const { write, final } = this;
    this.write = undefined;
    this.final = undefined;
    if (write) real.write(write.chunk, write.callback);
    if (final) this.onFinal(final);
  }

  /** The call is over: writes are dropped, as grpc-js drops writes after the status. */
  drop(): void {
    this.isDropped = true;
    const { write, final } = this;
    this.write = undefined;
    this.final = undefined;
    write?.callback();
    final?.();
  }
}

/** The write side: a Writable that forwards to the real call once it starts. */
function withRequests<Base extends DeferredCallOf<Writable>>(base: Base): Base {
  return class WithRequests extends base {
    private readonly pending = new PendingWrites();

    override attach(real: RealWritable): void {
      super.attach(real);
      real.on('status', () => this.pending.drop());
      this.pending.attach(real);
    }

    override fail(error: grpc.ServiceError, status: grpc.StatusObject): void {
      this.pending.drop();
      super.fail(error, status);
    }

    override _write(chunk: unknown, _encoding: BufferEncoding, callback: WriteCallback): void {
      this.pending.onWrite(chunk, callback);
    }

    override _final(callback: WriteCallback): void {
      this.pending.onFinal(callback);
    }
  };
}

export class DeferredUnaryCall extends deferredCall(EventEmitter) implements grpc.ClientUnaryCall {}

/** Server streaming. */
export class DeferredReadableCall<Response>
  extends withResponses(deferredCall(Readable))
  implements grpc.ClientReadableStream<Response>
{
  constructor(readonly deserialize: (chunk: Buffer) => Response) {
    super({ objectMode: true });
  }
}

/** Client streaming. */
export class DeferredWritableCall<Request>
  extends withRequests(deferredCall(Writable))
  implements grpc.ClientWritableStream<Request>
{
  constructor(readonly serialize: (value: Request) => Buffer) {
    super({ objectMode: true });
  }
}

/** Bidirectional streaming: both sides in one Duplex. */
export class DeferredDuplexCall<Request, Response>
  extends withRequests(withResponses(deferredCall(Duplex)))
  implements grpc.ClientDuplexStream<Request, Response>
{
  constructor(
    readonly serialize: (value: Request) => Buffer,
    readonly deserialize: (chunk: Buffer) => Response,
  ) {
    super({ objectMode: true });
  }
}
