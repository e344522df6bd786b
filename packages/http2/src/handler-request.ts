import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { PooledRequest, type PooledDispatchOptions, type RequestOwner } from './pooled-request.js';

function ignore(): void {}

/**
 * What the requests of both undici handler APIs share (`CallbackRequest`, `ControllerRequest`):
 * the caller's handler, and how an upgrade hands the stream slot to the caller's socket.
 */
export abstract class HandlerRequest extends PooledRequest {
  constructor(
    owner: RequestOwner,
    options: PooledDispatchOptions,
    protected readonly handler: Dispatcher.DispatchHandler,
  ) {
    super(owner, options);
  }

  /** The response is an upgrade: the upgraded stream keeps its slot on the session until it closes. */
  protected upgraded(socket: Duplex): void {
    this.hasResponse = true;
    this.isDone = true;
    const lease = this.takeLease();
    if (lease !== undefined) socket.once('close', () => void lease.release().catch(ignore));
  }
}
