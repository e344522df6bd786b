import { EventEmitter } from 'node:events';
import { Duplex, Readable, Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import type { CallLease } from './call-lease.js';

/*
 * What a pooled method returns at once, before a channel is leased: the same surface as grpc-js's
 * call objects (events 'metadata' and 'status', cancel(), getPeer(), the stream side), wired to the
 * real call once it starts. cancel() while waiting aborts the acquire and reports CANCELLED the
 * way grpc-js does, so a cancelled call never holds a lease.
 */

type RealCall = grpc.ClientUnaryCall;
type AuthContext = ReturnType<grpc.ClientUnaryCall['getAuthContext']>;

function forwardEvents(real: RealCall, surface: EventEmitter): void {
  real.on('metadata', (metadata: grpc.Metadata) => surface.emit('metadata', metadata));
  real.on('status', (status: grpc.StatusObject) => surface.emit('status', status));
}

export class DeferredUnaryCall extends EventEmitter implements grpc.ClientUnaryCall {
  lease: CallLease | undefined;
  private real: RealCall | undefined;

  attach(real: RealCall): void {
    this.real = real;
    forwardEvents(real, this);
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
}

/** Server streaming: a Readable fed by the real call, with its backpressure. */
export class DeferredReadableCall<Response> extends Readable implements grpc.ClientReadableStream<Response> {
  lease: CallLease | undefined;
  private real: grpc.ClientReadableStream<Response> | undefined;

  constructor(readonly deserialize: (chunk: Buffer) => Response) {
    super({ objectMode: true });
  }

  attach(real: grpc.ClientReadableStream<Response>): void {
    this.real = real;
    forwardEvents(real, this);
    real.on('data', (message: Response) => {
      if (!this.push(message)) real.pause();
    });
    real.on('end', () => this.push(null));
    real.on('error', (error: grpc.ServiceError) => {
      // A stream the user destroyed has nobody left to tell.
      if (!this.destroyed) this.emit('error', error);
    });
  }

  /** The call failed before it reached a channel: end the way grpc-js ends a failed stream. */
  fail(error: grpc.ServiceError, status: grpc.StatusObject): void {
    if (this.destroyed) return;
    this.push(null);
    this.emit('error', error);
    this.emit('status', status);
  }

  override _read(): void {
    this.real?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cancel();
    callback(error);
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
}

type WriteCallback = (error?: Error | null) => void;

/** Holds writes and the end of the request stream until the real call exists. */
class PendingWrites<Request> {
  private write: { chunk: Request; callback: WriteCallback } | undefined;
  private final: WriteCallback | undefined;
  private real: grpc.ClientWritableStream<Request> | undefined;
  private isDropped = false;

  onWrite(chunk: Request, callback: WriteCallback): void {
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

  attach(real: grpc.ClientWritableStream<Request>): void {
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

/** Client streaming: a Writable that forwards to the real call once it starts. */
export class DeferredWritableCall<Request> extends Writable implements grpc.ClientWritableStream<Request> {
  lease: CallLease | undefined;
  private real: grpc.ClientWritableStream<Request> | undefined;
  private readonly pending = new PendingWrites<Request>();

  constructor(readonly serialize: (value: Request) => Buffer) {
    super({ objectMode: true });
  }

  attach(real: grpc.ClientWritableStream<Request>): void {
    this.real = real;
    forwardEvents(real, this);
    real.on('status', () => this.pending.drop());
    this.pending.attach(real);
  }

  fail(status: grpc.StatusObject): void {
    this.pending.drop();
    this.emit('status', status);
  }

  override _write(chunk: Request, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.pending.onWrite(chunk, callback);
  }

  override _final(callback: WriteCallback): void {
    this.pending.onFinal(callback);
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
}

/** Bidirectional streaming: both of the above in one Duplex. */
export class DeferredDuplexCall<Request, Response>
  extends Duplex
  implements grpc.ClientDuplexStream<Request, Response>
{
  lease: CallLease | undefined;
  private real: grpc.ClientDuplexStream<Request, Response> | undefined;
  private readonly pending = new PendingWrites<Request>();

  constructor(
    readonly serialize: (value: Request) => Buffer,
    readonly deserialize: (chunk: Buffer) => Response,
  ) {
    super({ objectMode: true });
  }

  attach(real: grpc.ClientDuplexStream<Request, Response>): void {
    this.real = real;
    forwardEvents(real, this);
    real.on('data', (message: Response) => {
      if (!this.push(message)) real.pause();
    });
    real.on('end', () => this.push(null));
    real.on('error', (error: grpc.ServiceError) => {
      if (!this.destroyed) this.emit('error', error);
    });
    real.on('status', () => this.pending.drop());
    this.pending.attach(real);
  }

  fail(error: grpc.ServiceError, status: grpc.StatusObject): void {
    this.pending.drop();
    if (this.destroyed) return;
    this.push(null);
    this.emit('error', error);
    this.emit('status', status);
  }

  override _read(): void {
    this.real?.resume();
  }

  override _write(chunk: Request, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.pending.onWrite(chunk, callback);
  }

  override _final(callback: WriteCallback): void {
    this.pending.onFinal(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cancel();
    callback(error);
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
}
