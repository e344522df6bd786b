import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HandlerRequest } from './handler-request.js';

/**
 * A pooled request for a caller using undici's callback API (`onConnect`, `onHeaders`,
 * `onData`, ...), as `request`, `stream`, `pipeline` and `fetch` do: events pass straight through.
 */
export class CallbackRequest extends HandlerRequest {
  #abortAttempt: ((error?: Error) => void) | undefined = undefined;
  /** The abort hook the caller holds for the whole request, across a retry. */
  readonly #abortForCaller = (reason?: Error): void => this.abortRequest(reason);

  start(): void {
    // The caller gets its abort hook now, so it can abort while the request waits for a slot.
    this.handler.onConnect?.(this.#abortForCaller);
    this.run();
  }

  // ---- undici's handler for the current attempt ----

  onConnect(abort: (error?: Error) => void): void {
    this.#abortAttempt = abort;
    if (this.isAborted && this.abortReason !== null) abort(this.abortReason);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode >= 200) this.hasResponse = true;
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.releaseLease();
    this.isDone = true;
    this.handler.onComplete?.(trailers);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.upgraded(socket);
    this.handler.onUpgrade?.(statusCode, headers, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.handler.onBodySent?.(chunkSize, totalBytesSent);
  }

  onError(error: Error): void {
    this.attemptFailed(error);
  }

  // ---- hooks ----

  protected abortAttempt(reason: Error): void {
    this.#abortAttempt?.(reason);
  }

  protected clearAttempt(): void {
    this.#abortAttempt = undefined;
  }

  protected deliverError(error: Error): void {
    this.handler.onError?.(error);
  }
}
