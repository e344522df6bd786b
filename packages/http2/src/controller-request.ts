import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HandlerRequest } from './handler-request.js';

/**
 * A pooled request for a caller using undici's controller API (`onRequestStart`,
 * `onResponseStart`, ...). It is the caller's controller, stable across a retry, and undici's
 * handler for each attempt.
 */
export class ControllerRequest extends HandlerRequest implements Dispatcher.DispatchController {
  #isPaused = false;
  #attemptController: Dispatcher.DispatchController | undefined = undefined;

  start(): void {
    // The caller gets its controller now, so it can abort while the request waits for a slot.
    this.handler.onRequestStart?.(this, {});
    this.run();
  }

  // ---- the caller's controller ----

  get aborted(): boolean {
    return this.isAborted;
  }

  get paused(): boolean {
    return this.#isPaused;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  get rawHeaders(): Buffer[] | string[] | IncomingHttpHeaders | null {
    return this.#attemptController?.rawHeaders ?? null;
  }

  get rawTrailers(): Buffer[] | string[] | IncomingHttpHeaders | null {
    return this.#attemptController?.rawTrailers ?? null;
  }

  abort(reason?: Error): void {
    this.abortRequest(reason);
  }

  pause(): void {
    this.#isPaused = true;
    this.#attemptController?.pause();
  }

  resume(): void {
    this.#isPaused = false;
    this.#attemptController?.resume();
  }

  // ---- undici's handler for the current attempt ----

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#attemptController = controller;
    if (this.isAborted && this.abortReason !== null) controller.abort(this.abortReason);
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.upgraded(socket);
    this.handler.onRequestUpgrade?.(this, statusCode, headers, socket);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode >= 200) this.hasResponse = true;
    this.handler.onResponseStart?.(this, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(this, chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.releaseLease();
    this.isDone = true;
    this.handler.onResponseEnd?.(this, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.attemptFailed(error);
  }

  // ---- hooks ----

  protected abortAttempt(reason: Error): void {
    this.#attemptController?.abort(reason);
  }

  protected clearAttempt(): void {
    this.#attemptController = undefined;
  }

  protected deliverError(error: Error): void {
    this.handler.onResponseError?.(this, error);
  }
}
