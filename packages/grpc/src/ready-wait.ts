import { isPoolError } from '@pool/core';

/** First pause before asking the pool again for a channel no node can give yet; doubles up to the max. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

/**
 * The wait-for-ready side of one call (or of `client.waitForReady`): when the pool cannot give a
 * channel because its nodes cannot serve yet (every create failed, circuits open), ask again after
 * a pause growing to 1 s, until `giveUpAt`. Core's own create retries and circuit breaker pace the
 * connects; the pause only keeps an open circuit from turning this into a busy loop.
 */
/** The pool could not give a channel because no node can serve yet (not a timeout, a cancel or a full queue). */
export function isNotReady(error: unknown): boolean {
  return isPoolError(error, 'CREATE_FAILED') || isPoolError(error, 'NODE_UNAVAILABLE');
}

export class ReadyWait {
  private pauseMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;

  /** `giveUpAt`: epoch ms (the deadline, or the acquire timeout); Infinity waits until cancelled. */
  constructor(private readonly giveUpAt: number) {}

  /** The pause before the next acquire when `error` means "not ready yet" and time remains; else undefined. */
  retryInMs(error: unknown): number | undefined {
    if (!isNotReady(error)) return undefined;
    const remainingMs = this.giveUpAt - Date.now();
    if (remainingMs <= 0) return undefined;
    const pauseMs = Math.min(this.pauseMs, remainingMs);
    this.pauseMs = Math.min(this.pauseMs * 2, MAX_RETRY_MS);
    return pauseMs;
  }

  /** Runs `acquire` after `pauseMs` with the time then left. */
  schedule(pauseMs: number, acquire: (remainingMs: number) => void): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      acquire(this.giveUpAt - Date.now());
    }, pauseMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
