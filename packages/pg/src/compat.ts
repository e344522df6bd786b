import { holdProcess, isPoolError, type Lease } from '@pool/core';
import pg from 'pg';
import { readCompatConfig, type CompatSettings, type PgPoolCompatSwitches } from './compat/config.js';
import { callCheckout, callOutside, throwUncaught, type Checkout, type PoolClientWithRelease } from './compat/callbacks.js';
import { checkoutError, DOUBLE_END, DOUBLE_RELEASE, USE_AFTER_END } from './compat/errors.js';
import { installPgPoolMethods } from './compat/methods.js';
import { IdleReaper } from './compat/idle.js';
import { isBrokenClient } from './factory.js';
import type { PgNode } from './options.js';
import { createPgPoolInternal, type PgPool, type PgPoolInternals } from './pool.js';
import { MAX_BROKEN_ON_ARRIVAL } from './query.js';
import { createSessionReset, releaseLease, type SessionReset } from './reset.js';

export type { PgPoolCompatSwitches } from './compat/config.js';

/** A pg.PoolConfig (with pg-pool's `onConnect`, `Client`, `allowExitOnIdle`...) plus the opt-in switches. */
export type PgPoolCompatConfig = pg.PoolConfig & PgPoolCompatSwitches & {
  /** pg-pool's hook: runs on each new client before its first use; a rejection fails that checkout. */
  onConnect?: (client: pg.PoolClient) => void | Promise<void>;
};

type CoreLease = Lease<pg.Client, PgNode>;

/** The pg `Pool` class the user's `import pg from 'pg'` gives (pg is a peer): `instanceof pg.Pool` holds. */
const BasePool = pg.Pool;

/**
 * A drop-in for `pg.Pool` on `@pool/core`: a subclass of the user's own `pg.Pool` (so libraries that
 * check `instanceof pg.Pool`, such as @prisma/adapter-pg, take it), whose `connect`, `query`, `end`
 * and counters are this package's, with pg-pool's semantics: its callbacks, events, counts, timeouts
 * and end. `import { Pool } from '@pool/pg/compat'` replaces `import { Pool } from 'pg'`.
 */
export class PgPoolCompat extends BasePool {
  /** The underlying `@pool/pg` pool: stats(), health(), core events. */
  readonly pool: PgPool;
  private readonly settings: CompatSettings;
  private readonly internals: PgPoolInternals;
  private readonly reset: SessionReset | undefined;
  private readonly reaper: IdleReaper;
  private readonly leases = new Map<pg.Client, CoreLease>();
  /** Clients handed out at least once (the first checkout emits 'connect'). */
  private readonly seen = new WeakSet<pg.Client>();
  /** Clients this facade no longer counts whose destroy core has not finished (core still counts them). */
  private readonly removing = new WeakSet<pg.Client>();
  private removingCount = 0;
  /** Clients whose connect failed: never counted, never 'remove'd. */
  private readonly abandoned = new WeakSet<pg.Client>();
  private pendingCheckouts = 0;
  private releaseHold: (() => void) | undefined;
  private endCallbacks: ((error?: Error) => void)[] | undefined;
  private isDraining = false;

  constructor(config: PgPoolCompatConfig = {}) {
    const settings = readCompatConfig(config);
    super(config);
    this.settings = settings;
    const UserClient = (this as unknown as { Client: unknown }).Client as new (clientConfig: pg.ClientConfig) => pg.Client;
    const onConnect = config.onConnect;
    const verify = (config as { verify?: (client: pg.Client, done: (error?: Error) => void) => void }).verify;
    this.internals = createPgPoolInternal(settings.poolOptions, {
      newClient: (clientConfig) => new UserClient(this.clientConfigOf(clientConfig)),
      ...(onConnect || verify ? { onConnect: (client: pg.Client) => this.runConnectHooks(client, onConnect, verify) } : {}),
      onCreate: () => this.logLine('connecting new client'),
      onCreateFailed: (client) => {
        this.logLine('client failed to connect');
        this.abandoned.add(client);
      },
      onRemove: (client) => this.noteRemoved(client),
      onRemoved: (client) => {
        if (!this.abandoned.has(client)) this.emitOutside('remove', client);
      },
      onClientError: (error, client) => this.onIdleError(error, client),
    });
    this.pool = this.internals.pool;
    this.pool.on('destroy', () => {
      if (this.removingCount > 0) this.removingCount--;
    });
    this.reset = settings.resetOnRelease ? createSessionReset(settings.resetOnRelease, settings.resetTimeoutMs) : undefined;
    this.reaper = new IdleReaper(this, settings.idleTimeoutMs, settings.min);
  }

  /** @internal `totalCount`: clients open or connecting, as pg-pool counts them; one removed stops counting at once. */
  countTotal(): number {
    return Math.max(0, this.pool.stats().total - this.removingCount);
  }

  /** @internal `idleCount`. */
  countIdle(): number {
    return this.pool.stats().idle;
  }

  /** @internal `waitingCount`: checkouts queued for a client (not those whose own new client is connecting, as pg-pool). */
  countWaiting(): number {
    const stats = this.pool.stats();
    return Math.max(0, stats.waiting - stats.creating);
  }

  /** @internal `expiredCount`: checked-out clients past `maxLifetimeSeconds`, closed when released. */
  countExpired(): number {
    const lifetimeMs = this.settings.lifetimeMs;
    if (lifetimeMs === 0) return 0;
    const now = Date.now();
    let expired = 0;
    for (const lease of this.leases.values()) if (now - lease.createdAt >= lifetimeMs) expired++;
    return expired;
  }

  /** pg-pool never throws for an 'error' nobody listens to; neither does this pool. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...args);
  }

  private logLine(message: string): void {
    (this as unknown as { log: (message: string) => void }).log(message);
  }

  /** @internal For the idle reaper: takes this idle client out of core and closes it. */
  evictIdle(client: pg.Client): boolean {
    const passedOver: CoreLease[] = [];
    let target: CoreLease | undefined;
    // Core hands out its most recently released client first; the one to close may be further down.
    for (let lease = this.pool.tryAcquire(); lease !== undefined; lease = this.pool.tryAcquire()) {
      if (lease.connection === client) {
        target = lease;
        break;
      }
      passedOver.push(lease);
    }
    // Back in reverse, so core's order of idle clients is as it was.
    for (let index = passedOver.length - 1; index >= 0; index--) passedOver[index]?.release().catch(() => undefined);
    if (target === undefined) return false;
    this.logLine('remove idle client');
    this.noteRemoved(client);
    target.destroy().catch(() => undefined);
    return true;
  }

  /** Checks a client out (pg-pool's connect), calling `done` outside any promise chain. */
  checkout(done: Checkout, mayCallNow: boolean): void {
    if (this.ending) {
      done(new Error(USE_AFTER_END), undefined);
      return;
    }
    // The common case without a promise: a client is idle and nobody waits ahead.
    const now = this.pool.tryAcquire();
    if (now !== undefined && mayCallNow && !isBrokenClient(now.connection)) {
      this.lend(now, done);
      return;
    }
    // One hold on the process while any checkout waits (DESIGN: process lifetime).
    if (this.pendingCheckouts++ === 0) this.releaseHold = holdProcess();
    if (now === undefined) this.waitForClient(done, 0);
    // A callback is never called synchronously (pg-pool): the client is handed over a microtask later.
    else queueMicrotask(() => this.takeOrWait(now, done));
  }

  private takeOrWait(lease: CoreLease, done: Checkout): void {
    if (isBrokenClient(lease.connection)) {
      lease.destroy().catch(() => undefined);
      this.waitForClient(done, 1);
      return;
    }
    this.checkoutSettled();
    this.lend(lease, done);
    this.afterCheckout();
  }

  private waitForClient(done: Checkout, replaced: number): void {
    this.internals.acquireCore().then(
      (lease) => {
        // A backend's FATAL can land just after its client was handed over: nothing was sent on
        // it, so another client serves this checkout (as @pool/pg's own paths do, up to 3 times).
        if (replaced < MAX_BROKEN_ON_ARRIVAL && isBrokenClient(lease.connection)) {
          lease.destroy().catch(() => undefined);
          this.waitForClient(done, replaced + 1);
          return;
        }
        this.checkoutSettled();
        this.lend(lease, done);
        this.afterCheckout();
      },
      (error: unknown) => {
        this.checkoutSettled();
        const reported = checkoutError(error, this.options.connectionTimeoutMillis ?? 0);
        // A connect timing out with its checkout: let the connect's own abort (the same ms) land
        // first, so the caller sees no half-open client counted, as in pg-pool.
        if (isPoolError(reported, 'ACQUIRE_TIMEOUT')) setImmediate(callCheckout, done, reported, undefined);
        else callCheckout(done, reported, undefined);
        this.afterCheckout();
      },
    );
  }

  private checkoutSettled(): void {
    if (--this.pendingCheckouts === 0) this.releaseHold?.();
  }

  private lend(lease: CoreLease, done: Checkout): void {
    const client = lease.connection as PoolClientWithRelease;
    this.reaper.forget(client);
    if (this.settings.allowExitOnIdle) (client as { ref?: () => void }).ref?.();
    this.leases.set(client, lease);
    let isReleased = false;
    client.release = (error?: Error | boolean) => {
      if (isReleased) throw new Error(DOUBLE_RELEASE);
      isReleased = true;
      this.checkin(client, error);
    };
    if (!this.seen.has(client)) {
      this.seen.add(client);
      this.logLine('new client connected');
      this.emitOutside('connect', client);
    }
    if (this.listenerCount('acquire') > 0) this.emitOutside('acquire', client);
    callCheckout(done, undefined, client);
  }

  /** pg-pool's release: a truthy argument, a broken or ending client, or an ending pool removes it. */
  private checkin(client: pg.Client, error: Error | boolean | undefined): void {
    const lease = this.leases.get(client);
    if (lease === undefined) throw new Error(DOUBLE_RELEASE);
    this.leases.delete(client);
    const isEnding = (client as { _ending?: boolean })._ending === true;
    const isExpended = lease.useCount >= (this.settings.poolOptions.maxUses ?? Infinity);
    const isExpired = this.settings.lifetimeMs > 0 && Date.now() - lease.createdAt >= this.settings.lifetimeMs;
    const isRemoved = Boolean(error) || this.ending || isBrokenClient(client) || isEnding || isExpended || isExpired;
    try {
      // pg-pool emits before the client goes back; a listener that throws still sees it returned.
      if (this.listenerCount('release') > 0) this.emit('release', error, client);
    } finally {
      if (isRemoved) {
        if (isExpended) this.logLine('remove expended client');
        this.noteRemoved(client);
        lease.destroy(error instanceof Error ? error : undefined).catch(() => undefined);
      } else {
        this.giveBack(client, lease);
      }
    }
  }

  private giveBack(client: pg.Client, lease: CoreLease): void {
    const ending = this.reset ? releaseLease(lease, this.reset, (error) => this.pool.reportError(error, 'reset')) : lease.release();
    ending.catch(() => undefined);
    if (this.settings.allowExitOnIdle) (client as { unref?: () => void }).unref?.();
    this.reaper.released(client);
  }

  /** pg-pool's idle listener: an idle client's error removes it, then the pool emits it. */
  private onIdleError(error: Error, client: pg.Client): void {
    if (this.leases.has(client) || !this.seen.has(client)) return; // the holder's (or the connect's) business
    this.noteRemoved(client);
    (error as Error & { client?: pg.Client }).client = client;
    this.emitOutside('error', error, client);
  }

  private noteRemoved(client: pg.Client): void {
    if (this.abandoned.has(client) || this.removing.has(client)) return;
    this.removing.add(client);
    this.removingCount++;
    this.reaper.forget(client);
  }

  private afterCheckout(): void {
    if (this.ending && this.pendingCheckouts === 0) this.drainAll();
  }

  /** Emits where pg-pool emits from a socket's callback: a listener's throw is uncaught, the pool goes on. */
  private emitOutside(event: string, first: unknown, second?: unknown): void {
    try {
      this.emit(event, first, second);
    } catch (error) {
      throwUncaught(error);
    }
  }

  private async runConnectHooks(
    client: pg.Client,
    onConnect: PgPoolCompatConfig['onConnect'],
    verify: ((client: pg.Client, done: (error?: Error) => void) => void) | undefined,
  ): Promise<void> {
    if (onConnect) await onConnect(client as unknown as pg.PoolClient);
    if (verify) await new Promise<void>((resolve, reject) => verify(client, (error) => (error ? reject(error) : resolve())));
  }

  /** The pg.Client settings as the user gave them: none of `@pool/pg`'s own client defaults. */
  private clientConfigOf(config: pg.ClientConfig): pg.ClientConfig {
    const given = this.settings.givenClientNames;
    const clientConfig: Record<string, unknown> = { ...this.options, ...config, ...this.settings.clientSettings };
    for (const key of ['application_name', 'keepAlive'] as const) if (!given.has(key)) delete clientConfig[key];
    return clientConfig as pg.ClientConfig;
  }

  private startEnd(callback: (error?: Error) => void): void {
    if (this.endCallbacks) {
      callOutside(callback, new Error(DOUBLE_END));
      return;
    }
    this.logLine('ending');
    (this as { ending: boolean }).ending = true;
    this.endCallbacks = [callback];
    // Checkouts queued before end() are still served (pg-pool leaves them hanging); then drain.
    if (this.pendingCheckouts === 0) this.drainAll();
  }

  private drainAll(): void {
    if (this.isDraining) return;
    this.isDraining = true;
    this.reaper.stop();
    this.pool.drain().then(
      () => {
        (this as { ended: boolean }).ended = true;
        for (const callback of this.endCallbacks ?? []) callOutside(callback);
      },
      (error: Error) => {
        for (const callback of this.endCallbacks ?? []) callOutside(callback, error);
      },
    );
  }

  /** @internal */
  finishEnd(callback: (error?: Error) => void): void {
    this.startEnd(callback);
  }
}

// connect, query, end and the counters keep pg.Pool's declared types; their bodies are this package's.
installPgPoolMethods(PgPoolCompat.prototype);

export { PgPoolCompat as Pool };
