import { Semaphore } from 'redis-semaphore';

/**
 * redis-semaphore's Semaphore, with a refresh that never rejects: its own refresh timer calls
 * `_refresh` from a setInterval, so a Redis error there would be an unhandled rejection and end
 * the process. A failed refresh is reported and counted as "not known lost"; the permit's own
 * watch (permit.ts) declares it lost once no refresh succeeded for a whole lease.
 */
export class FleetSemaphore extends Semaphore {
  /** Date.now() of the last refresh (or the acquire) that Redis confirmed. */
  confirmedAt = 0;

  constructor(
    client: ConstructorParameters<typeof Semaphore>[0],
    key: string,
    limit: number,
    options: ConstructorParameters<typeof Semaphore>[3],
    private readonly onRefreshError: (error: unknown) => void,
  ) {
    super(client, key, limit, options);
  }

  protected override async _refresh(): Promise<boolean> {
    try {
      const isHeld = await super._refresh();
      if (isHeld) this.confirmedAt = Date.now();
      return isHeld;
    } catch (error) {
      this.onRefreshError(error);
      return true;
    }
  }

  /** Stops refreshing; used once the permit is lost, so a late success cannot revive it. */
  stop(): void {
    this.stopRefresh();
  }
}
