import { type ClockTimer, setUnrefTimeout } from './clock.js';
import { PoolError } from './errors.js';
import type { Clock } from './clock.js';
import type { PoolEmitter } from './events.js';
import type { PoolLedger } from './ledger.js';
import type { PoolNode } from './options.js';
import type { Waiter } from './records.js';
import { describeShortage, type ShortageBooks } from './shortage.js';
import type { WaiterQueue } from './waiters.js';

/** What the deadlines touch: the clock, the queue, the counters they bump, and the engine's rules for a waiter that leaves. */
export interface DeadlinePool<C, N extends PoolNode> extends ShortageBooks<C, N>, Pick<PoolEmitter, 'emit'> {
  readonly clock: Clock;
  readonly waiters: WaiterQueue<C, N>;
  readonly counters: PoolLedger<C, N>['counters'];
  failWaiter(waiter: Waiter<C, N>, error: PoolError): void;
  /** Hands freed capacity to waiters. */
  pump(now?: number): void;
}

/**
 * Acquire timeouts and aborts. One timer serves every waiter's deadline: it is armed for the
 * earliest, and when it fires it fails the expired waiters and re-arms for the next (so a
 * deadline past the longest timer Node takes is reached in several steps). The timer is
 * unref'd: a waiting acquire keeps the process alive through its own hold (keep-alive.ts).
 */
export class WaiterDeadlines<C, N extends PoolNode> {
  private timer: ClockTimer | undefined;
  private armedAt = Infinity;

  constructor(private readonly pool: DeadlinePool<C, N>) {}

  /** Makes sure the timer fires no later than `deadline`. */
  watch(deadline: number, now: number): void {
    if (deadline >= this.armedAt) return;
    this.stop();
    this.armedAt = deadline;
    this.timer = setUnrefTimeout(this.pool.clock, () => this.expire(), Math.max(0, deadline - now));
  }

  stop(): void {
    if (this.timer) this.pool.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  abort(waiter: Waiter<C, N>): void {
    if (waiter.isSettled) return;
    const pool = this.pool;
    const waitedMs = pool.clock.now() - waiter.enqueuedAt;
    pool.counters.aborted++;
    pool.emit('abort', { waitedMs, reason: waiter.signal?.reason });
    pool.failWaiter(waiter, new PoolError('ABORTED', `The acquire was aborted after ${Math.round(waitedMs)} ms`, { cause: waiter.signal?.reason }));
    pool.pump();
  }

  private expire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const pool = this.pool;
    const now = pool.clock.now();
    let next = Infinity;
    pool.waiters.forEach((waiter) => {
      if (waiter.deadline <= now) this.timeOut(waiter, now);
      else if (waiter.deadline < next) next = waiter.deadline;
    });
    if (next !== Infinity) this.watch(next, now);
    pool.pump();
  }

  private timeOut(waiter: Waiter<C, N>, now: number): void {
    const pool = this.pool;
    const waitedMs = now - waiter.enqueuedAt;
    pool.counters.timeouts++;
    const payload: { waitedMs: number; node?: string; partition?: string } = { waitedMs };
    if (waiter.node) payload.node = waiter.node.id;
    if (waiter.partition) payload.partition = waiter.partition.name;
    pool.emit('timeout', payload);
    const message = `Timed out after ${Math.round(waitedMs)} ms waiting for a connection: ${describeShortage(pool, waiter)}`;
    const cause = waiter.lastCreateError;
    pool.failWaiter(waiter, new PoolError('ACQUIRE_TIMEOUT', message, cause === undefined ? undefined : { cause }));
  }
}
