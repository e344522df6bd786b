import type pg from 'pg';

/** What the idle reaper needs from the facade. */
export interface IdleReaperOwner {
  /** Clients alive now, as pg-pool counts them. */
  readonly totalCount: number;
  /** Closes this idle client (takes it out of the pool first); false when it is not idle there. */
  evictIdle(client: pg.Client): boolean;
}

/**
 * pg-pool's idle timeout: a client released while the pool holds more than `min` clients is closed
 * once it has been idle `idleTimeoutMs`, unless the pool is down to `min` by then (a client released
 * at or below `min` is kept for good). One timer for the pool, armed for the oldest idle client,
 * instead of pg-pool's timer per client; `unref()`ed: an idle client's own socket is what keeps the
 * process alive, as in pg-pool (see allowExitOnIdle).
 */
export class IdleReaper {
  /** Idle clients that may be reaped, oldest release first (a Map keeps insertion order). */
  private readonly idleSince = new Map<pg.Client, number>();
  private timer: NodeJS.Timeout | undefined;
  private isStopped = false;

  constructor(
    private readonly owner: IdleReaperOwner,
    private readonly idleTimeoutMs: number,
    private readonly min: number,
  ) {}

  /** A client went back to the pool. */
  released(client: pg.Client): void {
    if (this.idleTimeoutMs === 0 || this.isStopped || (this.min > 0 && this.owner.totalCount <= this.min)) return;
    this.idleSince.delete(client);
    this.idleSince.set(client, Date.now());
    if (this.timer === undefined) this.arm(this.idleTimeoutMs);
  }

  /** The client was handed out or removed. */
  forget(client: pg.Client): void {
    this.idleSince.delete(client);
  }

  stop(): void {
    this.isStopped = true;
    this.idleSince.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.reap(), Math.max(1, delayMs));
    this.timer.unref();
  }

  private reap(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [client, since] of this.idleSince) {
      const dueIn = since + this.idleTimeoutMs - now;
      if (dueIn > 0) {
        this.arm(dueIn);
        return;
      }
      this.idleSince.delete(client);
      // pg-pool checks `min` again when the timer fires: at or below it, the client stays.
      if (this.owner.totalCount > this.min) this.owner.evictIdle(client);
    }
  }
}
