/**
 * Idle-resource eviction as generic-pool has it: an evictor object judges one idle resource at a
 * time from its timestamps. Here the judgement runs inside core's background validation (the
 * `healthCheckIntervalMs` sweep, set to `evictionRunIntervalMillis`), so no second timer exists.
 */

/** What an evictor is shown of one resource, with generic-pool's field names. */
export interface PooledResource<T> {
  /** The resource itself, as `factory.create` made it. */
  readonly obj: T;
  /** ms epoch of creation. */
  readonly creationTime: number;
  /** ms epoch of the last acquire; null if never borrowed. */
  lastBorrowTime: number | null;
  /** ms epoch of the last release; null if never returned. */
  lastReturnTime: number | null;
  /** ms epoch since which it sits idle (creation or last release). */
  lastIdleTime: number;
}

/** The settings an evictor judges by. */
export interface EvictionConfig {
  softIdleTimeoutMillis: number;
  idleTimeoutMillis: number;
  min: number;
}

/** generic-pool's evictor contract: true means destroy this idle resource now. */
export interface Evictor {
  evict(config: EvictionConfig, pooledResource: PooledResource<unknown>, availableObjectsCount: number): boolean;
}

/** generic-pool's rule: past idleTimeoutMillis always; past softIdleTimeoutMillis while more than min are idle. */
export class DefaultEvictor implements Evictor {
  evict(config: EvictionConfig, pooledResource: PooledResource<unknown>, availableObjectsCount: number): boolean {
    const idleTime = Date.now() - pooledResource.lastIdleTime;
    if (config.softIdleTimeoutMillis > 0 && config.softIdleTimeoutMillis < idleTime && config.min < availableObjectsCount) return true;
    return config.idleTimeoutMillis < idleTime;
  }
}

export interface EvictionSettings extends EvictionConfig {
  numTestsPerEvictionRun: number;
}

/**
 * The timestamps of every resource and the per-run budget of tests. Kept only when eviction is on
 * (evictionRunIntervalMillis > 0), so a pool without it pays no clock read on release.
 */
export class IdleEviction<T> {
  private readonly resources = new Map<T, PooledResource<T>>();
  private readonly config: EvictionConfig;
  private isStopped = false;
  // One run is the synchronous sweep of core's maintenance tick: it ends at the next microtask.
  private isRunOpen = false;
  private testsThisRun = 0;
  private availableThisRun = 0;
  private readonly endRun = (): void => {
    this.isRunOpen = false;
  };

  constructor(
    private readonly evictor: Evictor,
    private readonly settings: EvictionSettings,
    /** Idle resources now, the one under test excluded (core marks it validating first). */
    private readonly idleCount: () => number,
  ) {
    this.config = { softIdleTimeoutMillis: settings.softIdleTimeoutMillis, idleTimeoutMillis: settings.idleTimeoutMillis, min: settings.min };
  }

  created(resource: T): void {
    const now = Date.now();
    this.resources.set(resource, { obj: resource, creationTime: now, lastBorrowTime: null, lastReturnTime: null, lastIdleTime: now });
  }

  borrowed(resource: T, at: number): void {
    const info = this.resources.get(resource);
    if (info !== undefined) info.lastBorrowTime = at;
  }

  returned(resource: T): void {
    const info = this.resources.get(resource);
    if (info === undefined) return;
    const now = Date.now();
    info.lastReturnTime = now;
    info.lastIdleTime = now;
  }

  forget(resource: T): void {
    this.resources.delete(resource);
  }

  /** From drain on, nothing is evicted (an eviction would only make core top min up again). */
  stop(): void {
    this.isStopped = true;
  }

  /** Core's idle validation: false destroys the resource. */
  shouldKeep(resource: T): boolean {
    if (this.isStopped) return true;
    const info = this.resources.get(resource);
    if (info === undefined) return true;
    if (!this.isRunOpen) {
      this.isRunOpen = true;
      this.testsThisRun = 0;
      this.availableThisRun = this.idleCount() + 1;
      queueMicrotask(this.endRun);
    }
    // Past the run's budget a resource is kept untested; core checks it again next run.
    if (this.testsThisRun >= this.settings.numTestsPerEvictionRun) return true;
    this.testsThisRun++;
    let shouldEvict: boolean;
    try {
      shouldEvict = this.evictor.evict(this.config, info as PooledResource<unknown>, this.availableThisRun);
    } catch {
      shouldEvict = false;
    }
    if (shouldEvict) this.availableThisRun--;
    return !shouldEvict;
  }
}
