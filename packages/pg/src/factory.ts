import type { ConnectionFactory } from '@pool/core';
import pg from 'pg';
import type { PgNode } from './options.js';
import { redactError } from './redact.js';

/** Hooks the pg.Pool facade uses to count clients as pg-pool does and emit its events. */
export interface PgFactoryHooks {
  /** Builds the client (the facade's custom `Client` option). Default: `new pg.Client(config)`. */
  newClient?(config: pg.ClientConfig): pg.Client;
  /** A client was constructed and is connecting. */
  onCreate?(client: pg.Client): void;
  /** That connect failed or was aborted: the client is gone. */
  onCreateFailed?(client: pg.Client): void;
  /** Connected; a rejection (pg's `onConnect` hook) ends the client and fails the create with it. */
  onConnect?(client: pg.Client): void | Promise<void>;
  /** The pool starts destroying the client (before it is ended). */
  onRemove?(client: pg.Client): void;
  /** The client has been ended. */
  onRemoved?(client: pg.Client): void;
  onClientError?(error: Error, client: pg.Client): void;
}

interface ConnectionState {
  /** The socket failed or the server ended the session: never run anything on it again. */
  isBroken: boolean;
  /** What broke it (the server's FATAL, a socket error), already scrubbed of secrets. */
  brokenBy?: Error;
  /** We are ending it ourselves: its 'end' is expected. */
  isClosing: boolean;
}

/** Transaction status from the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' failed transaction. */
type TransactionStatus = 'I' | 'T' | 'E' | null;

/** The pool's bookkeeping, kept on the client itself: read on every release, so no WeakMap lookup. */
const STATE = Symbol('@pool/pg connection state');
type TrackedClient = pg.Client & { [STATE]?: ConnectionState };
const stateOf = (client: pg.Client): ConnectionState | undefined => (client as TrackedClient)[STATE];

/**
 * pg >= 8.16 keeps the status byte of the server's last ReadyForQuery message. It is the
 * authoritative answer to "is this session inside a transaction?" — whatever SQL the user ran
 * (BEGIN, COMMIT AND CHAIN, a function that errored...). Unknown means "assume the worst".
 */
export function transactionStatus(client: pg.Client): TransactionStatus {
  const reader = (client as unknown as { getTransactionStatus?: () => TransactionStatus }).getTransactionStatus;
  return typeof reader === 'function' ? reader.call(client) : null;
}

export function isBrokenClient(client: pg.Client): boolean {
  const state = stateOf(client);
  if (state?.isBroken) return true;
  const { _queryable: isQueryable, connection } = client as unknown as {
    _queryable?: boolean;
    connection?: { stream?: { destroyed?: boolean; writableEnded?: boolean } };
  };
  if (isQueryable === false) return true;
  // Our side of the socket already closed (ended or destroyed): pg learns of it only when the
  // server's FIN arrives, but nothing written now would be sent.
  const stream = connection?.stream;
  return stream !== undefined && (stream.destroyed === true || stream.writableEnded === true);
}

/**
 * True for errors after which the server closes the session: FATAL/PANIC severity (a terminated
 * backend sends its FATAL error before the socket closes, so the client still looks usable).
 */
export function isSessionFatal(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { severity, code } = error as { severity?: unknown; code?: unknown };
  if (severity === 'FATAL' || severity === 'PANIC') return true;
  return typeof code === 'string' && (code.startsWith('57P0') || code.startsWith('08'));
}

const NOT_QUERYABLE = /is not queryable$/;

/**
 * pg fails a statement it never sent, because the client had already broken, with a codeless
 * "... is not queryable" that says nothing of why; the error that broke the client does (57P01
 * for a terminated backend, a socket error), so that one is what the caller gets.
 */
export function explainUnsent(client: pg.Client, error: unknown): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== undefined || !NOT_QUERYABLE.test(error.message)) return error;
  return stateOf(client)?.brokenBy ?? error;
}

/** Marks the client broken when `error` ended its session; returns whether it did. */
export function noteError(client: pg.Client, error: unknown): boolean {
  if (isSessionFatal(error)) markBroken(client);
  return isBrokenClient(client);
}

export function markBroken(client: pg.Client): void {
  const state = stateOf(client);
  if (state) state.isBroken = true;
}

/** Destroys the socket under a pg.Client at once (pg's own end() waits for the server). */
export function destroySocket(client: pg.Client): void {
  markBroken(client);
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

export interface PgFactoryConfig {
  clientConfigs: Map<string, pg.ClientConfig>;
  secrets: string[];
  hooks: PgFactoryHooks;
}

export function createPgFactory(config: PgFactoryConfig): ConnectionFactory<pg.Client, PgNode> {
  const { clientConfigs, secrets, hooks } = config;

  return {
    async create(node, ctx) {
      const clientConfig = clientConfigs.get(node.id);
      if (!clientConfig) throw new Error(`no connection settings for node '${node.id}'`);
      const client = hooks.newClient ? hooks.newClient(clientConfig) : new pg.Client(clientConfig);
      hooks.onCreate?.(client);
      const state: ConnectionState = { isBroken: false, isClosing: false };
      (client as TrackedClient)[STATE] = state;
      // Always listen: an 'error' on an idle client (backend terminated, server restart) must never
      // be an uncaught exception. It retires the connection instead.
      client.on('error', (error: Error) => {
        state.isBroken = true;
        redactError(error, secrets);
        state.brokenBy ??= error;
        if (state.isClosing) return;
        hooks.onClientError?.(error, client);
        ctx.invalidate(error);
      });
      client.on('end', () => {
        state.isBroken = true;
        if (!state.isClosing) ctx.invalidate(new Error('the server closed the connection'));
      });
      let isGone = false;
      const fail = () => {
        state.isClosing = true;
        destroySocket(client);
        if (!isGone) hooks.onCreateFailed?.(client);
        isGone = true;
      };
      ctx.signal.addEventListener('abort', fail, { once: true });
      try {
        // The callback form: a custom Client (the facade's option) may have no promise form.
        await new Promise<void>((resolve, reject) => {
          client.connect((error?: Error) => (error ? reject(error) : resolve()));
        });
        if (ctx.signal.aborted) throw ctx.signal.reason;
        await hooks.onConnect?.(client);
      } catch (error) {
        fail();
        throw redactError(error, secrets);
      } finally {
        ctx.signal.removeEventListener('abort', fail);
      }
      return client;
    },

    async destroy(client) {
      const state = stateOf(client);
      if (state) state.isClosing = true;
      hooks.onRemove?.(client);
      if (isBrokenClient(client)) {
        destroySocket(client);
        hooks.onRemoved?.(client);
        return;
      }
      // A polite Terminate message; if the server does not answer quickly, cut the socket.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        // The callback form, for custom Clients too; pg calls it once the socket closed.
        new Promise<void>((resolve) => {
          try {
            client.end(() => resolve());
          } catch {
            resolve();
          }
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 1_000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      destroySocket(client);
      hooks.onRemoved?.(client);
    },

    async validate(client, ctx) {
      if (isBrokenClient(client)) return false;
      const onAbort = () => destroySocket(client);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        // Bounded by core's signal (createTimeoutMs): an abort destroys the socket, failing the query.
        await client.query('SELECT 1');
        return !isBrokenClient(client);
      } catch {
        return false;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },

    isBroken(error, client) {
      return noteError(client, error);
    },
  };
}
