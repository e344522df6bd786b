import { holdProcess, PoolError, type Lease } from '@pool/core';
import type pg from 'pg';
import { sendCancelRequest } from './cancel.js';
import { destroySocket, isBrokenClient, noteError, transactionStatus } from './factory.js';
import type { PgNode } from './options.js';
import { redactError } from './redact.js';
import { releaseLease, type SessionReset } from './reset.js';

export interface QueryRunContext {
  secrets: readonly string[];
  cancelTimeoutMs: number;
  reset: SessionReset;
  /** Background cleanup failures (never thrown at a caller), reported on the pool's 'error' event. */
  onBackgroundError(error: unknown): void;
  onResetError(error: unknown): void;
}

const SQLSTATE_QUERY_CANCELED = '57014';
/** setTimeout's largest delay; a longer query timeout is none at all (as Infinity is). */
const MAX_TIMER_MS = 2_147_483_647;
const CANCEL_SEND_TIMEOUT_MS = 10_000;

type CallbackQuery = (
  text: string | pg.QueryConfig,
  values: readonly unknown[] | undefined,
  callback: (error: Error | null | undefined, result: pg.QueryResult | undefined) => void,
) => void;
type PromiseQuery = (text: string | pg.QueryConfig, values: readonly unknown[] | undefined) => Promise<pg.QueryResult>;

/**
 * When a lease ends synchronously (the common case: nothing to reset), core returns one shared,
 * already-fulfilled promise. Once seen fulfilled it can never reject, so it needs no handler: that
 * saves a promise and a microtask on every query. Any other promise is watched for a rejection.
 */
let fulfilledEnding: Promise<void> | undefined;

function watchEnding(ending: Promise<void>, onError: (error: unknown) => void): void {
  if (ending === fulfilledEnding) return;
  ending.then(() => {
    fulfilledEnding = ending;
  }, onError);
}

/** Ends a core lease after a query: destroy when the connection broke, else reset if needed and release. */
export function endLease(lease: Lease<pg.Client, PgNode>, context: QueryRunContext, error?: unknown): void {
  const isBroken = error === undefined ? isBrokenClient(lease.connection) : noteError(lease.connection, error);
  try {
    const ending = isBroken ? lease.destroy(error) : releaseLease(lease, context.reset, context.onResetError);
    watchEnding(ending, context.onBackgroundError);
  } catch (endError) {
    // Never let a failure to hand the connection back keep the caller from its result.
    context.onBackgroundError(endError);
  }
}

/**
 * The common case in one promise: acquire, run with pg's callback form, hand the connection back
 * before the caller's continuation runs (so the next waiter gets it first, as pg.Pool does). The
 * process is held open from the call until it settles (DESIGN "Process lifetime").
 */
export function acquireAndQuery(
  acquire: () => Promise<Lease<pg.Client, PgNode>>,
  text: string | pg.QueryConfig,
  values: readonly unknown[] | undefined,
  context: QueryRunContext,
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const release = holdProcess();
    withQueryableLease(
      acquire,
      (lease) => queryAndEndLease(lease, text, values, context, resolve, reject, release),
      (error) => {
        release();
        reject(error);
      },
      0,
    );
  });
}

/**
 * Leases found broken on arrival that are replaced before giving up. A backend's FATAL (a
 * terminated backend, a server shutdown) can arrive in the same socket read as the answer to the
 * connection's previous statement: the connection is handed to the next caller first and marked
 * broken a moment later, before that caller's first statement is sent. Nothing has been sent on it,
 * so another connection serves the caller.
 */
export const MAX_BROKEN_ON_ARRIVAL = 3;

/** Acquires; a lease broken on arrival is destroyed and replaced (see {@link MAX_BROKEN_ON_ARRIVAL}). */
function withQueryableLease(
  acquire: () => Promise<Lease<pg.Client, PgNode>>,
  onLease: (lease: Lease<pg.Client, PgNode>) => void,
  onError: (error: unknown) => void,
  replacements: number,
): void {
  acquire().then((lease) => {
    if (replacements < MAX_BROKEN_ON_ARRIVAL && isBrokenClient(lease.connection)) {
      lease.destroy().catch(() => undefined);
      withQueryableLease(acquire, onLease, onError, replacements + 1);
      return;
    }
    onLease(lease);
  }, onError);
}

/** A lease on a client that can take a statement now, for the paths other than {@link acquireAndQuery}. */
export function acquireQueryable(acquire: () => Promise<Lease<pg.Client, PgNode>>): Promise<Lease<pg.Client, PgNode>> {
  return new Promise((resolve, reject) => withQueryableLease(acquire, resolve, reject, 0));
}

/**
 * pg's callback form: no promise pair inside pg, and a string text skips pg's config cloning.
 * The lease ends, then `settled` (a process hold's release) runs, before `resolve` or `reject`.
 */
function queryAndEndLease(
  lease: Lease<pg.Client, PgNode>,
  text: string | pg.QueryConfig,
  values: readonly unknown[] | undefined,
  context: QueryRunContext,
  resolve: (result: pg.QueryResult) => void,
  reject: (error: unknown) => void,
  settled?: () => void,
): void {
  (lease.connection.query as CallbackQuery).call(lease.connection, text, values, (error, result) => {
    settled?.();
    if (error) {
      endLease(lease, context, error);
      reject(redactError(error, context.secrets));
    } else {
      endLease(lease, context);
      resolve(result as pg.QueryResult);
    }
  });
}

/**
 * Runs one query on a leased connection, ends the lease, and settles. When `signal` aborts or
 * `timeoutMs` passes first, the caller gets `ABORTED` at once; in the background a real
 * CancelRequest goes to the server and the connection returns to the pool only once it is clean.
 */
export function runQuery(
  lease: Lease<pg.Client, PgNode>,
  text: string | pg.QueryConfig,
  values: readonly unknown[] | undefined,
  context: QueryRunContext,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<pg.QueryResult> {
  const client = lease.connection;
  const hasDeadline = timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS;
  if (signal === undefined && !hasDeadline) {
    return new Promise((resolve, reject) => queryAndEndLease(lease, text, values, context, resolve, reject));
  }
  if (signal?.aborted) {
    endLease(lease, context);
    return Promise.reject(new PoolError('ABORTED', 'query aborted before it was sent', { cause: signal.reason }));
  }

  return new Promise((resolve, reject) => {
    let isDone = false;
    let timer: NodeJS.Timeout | undefined;
    const inFlight = (client.query as PromiseQuery).call(client, text, values);
    const stop = (reason: unknown, message: string) => {
      if (isDone) return;
      isDone = true;
      cleanup();
      reject(new PoolError('ABORTED', message, { cause: reason }));
      cancelAndReturn(lease, inFlight, context).catch(context.onBackgroundError);
    };
    const onAbort = () => stop(signal?.reason, 'query aborted; a cancel request was sent to the server');
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (hasDeadline) {
      timer = setTimeout(() => {
        const reason = new DOMException(`query exceeded ${timeoutMs} ms`, 'TimeoutError');
        stop(reason, `query timed out after ${timeoutMs} ms (queryTimeoutMs); a cancel request was sent to the server`);
      }, timeoutMs);
    }
    inFlight.then(
      (result) => {
        if (isDone) return;
        isDone = true;
        cleanup();
        endLease(lease, context);
        resolve(result);
      },
      (error: unknown) => {
        if (isDone) return;
        isDone = true;
        cleanup();
        endLease(lease, context, error);
        reject(redactError(error, context.secrets));
      },
    );
  });
}

/**
 * Cancels the running query and decides whether the connection is clean: the query must end within
 * `cancelTimeoutMs`, and unless it ended *because* of the cancel (SQLSTATE 57014), a probe query
 * must succeed, so a late cancel can only hit the probe, never the next user's query.
 */
async function cancelAndReturn(
  lease: Lease<pg.Client, PgNode>,
  inFlight: Promise<pg.QueryResult>,
  context: QueryRunContext,
): Promise<void> {
  const client = lease.connection;
  // The cancel request gets its own, longer deadline: even when the connection is given up, the
  // server should still stop the statement.
  const cancelSent = sendCancelRequest(client, Math.max(context.cancelTimeoutMs, CANCEL_SEND_TIMEOUT_MS));
  const outcome = await settleWithin(inFlight, context.cancelTimeoutMs);
  if (outcome.kind === 'error') noteError(client, outcome.error);
  let isClean = outcome.kind !== 'timeout' && !isBrokenClient(client);
  if (isClean) {
    // Reuse only after the server has taken the cancel request (it closes that connection once it
    // signalled the backend), so the cancel cannot land on the next user's statement.
    isClean = await cancelSent;
  }
  if (isClean && !(outcome.kind === 'error' && sqlState(outcome.error) === SQLSTATE_QUERY_CANCELED)) {
    isClean = (await probe(client, context.cancelTimeoutMs)) || (await probe(client, context.cancelTimeoutMs));
  }
  if (isClean) {
    await releaseLease(lease, context.reset, context.onResetError);
  } else {
    destroySocket(client);
    await lease.destroy(new Error('the cancelled query did not end cleanly'));
  }
}

type Outcome = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

function settleWithin(promise: Promise<unknown>, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(1, timeoutMs));
    promise.then(
      () => {
        clearTimeout(timer);
        resolve({ kind: 'ok' });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'error', error });
      },
    );
  });
}

async function probe(client: pg.Client, timeoutMs: number): Promise<boolean> {
  if (isBrokenClient(client)) return false;
  // In an (aborted) transaction SELECT would fail; ROLLBACK both probes and cleans.
  const text = transactionStatus(client) === 'I' ? 'SELECT 1' : 'ROLLBACK';
  try {
    await client.query({ text, query_timeout: Math.max(1, timeoutMs) } as pg.QueryConfig);
    return true;
  } catch {
    return false;
  }
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
