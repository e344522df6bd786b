import type { EventEmitter } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';
import type { ConnectionFactory, CreateContext, ValidateContext } from '@pool/core';
import { buildConnector, Client } from 'undici';
import { normalizeOrigin, type Http2Node, type ResolvedHttp2Options } from './options.js';
import { finishStreamsOnGracefulGoaway, openSession } from './session.js';

/** What the pool knows about one session (one undici Client). */
export interface SessionState {
  readonly session: ClientHttp2Session;
  /** Stream budget: the pool's per-session cap, lowered to the peer's SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxStreams: number;
  /** GOAWAY received, disconnected or broken: no new stream goes to this session. */
  isRetired: boolean;
  /** Retires the session: core hands it to no new lease and closes it when its last lease ends. */
  retire(reason: unknown): void;
}

/** Error a retired Client gets if it tries to reconnect: one Client is one session, never two. */
export const SESSION_CLOSED_CODE = 'POOL_HTTP2_SESSION_CLOSED';

const sessionStates = new WeakMap<Client, SessionState>();

export function sessionStateOf(client: Client): SessionState | undefined {
  return sessionStates.get(client);
}

function ignore(): void {}

/** The factory behind `createHttp2Pool`: one undici Client (one HTTP/2 session) per connection. */
export function createSessionFactory(options: ResolvedHttp2Options): ConnectionFactory<Client, Http2Node> {
  const budget = options.maxLeasesPerConnection;

  const streamBudget = (session: ClientHttp2Session): number => {
    const announced = session.remoteSettings.maxConcurrentStreams;
    return typeof announced === 'number' ? Math.max(1, Math.min(budget, announced)) : budget;
  };

  return {
    async create(node: Http2Node, ctx: CreateContext): Promise<Client> {
      const origin = normalizeOrigin(node.origin);
      const connectOptions: Record<string, unknown> = {
        ...options.connect,
        ...node.connect,
        allowH2: true,
        // h2c with prior knowledge: undici marks the plain socket as HTTP/2 without an Upgrade.
        useH2c: origin.startsWith('http:'),
        timeout: options.connectTimeoutMs,
      };
      const connector = buildConnector(connectOptions as buildConnector.BuildOptions);
      let hasConnected = false;
      const connectOnce: buildConnector.connector = (connectParams, callback) => {
        if (hasConnected) {
          // undici reconnects a Client whose session went away; the pool makes a new Client instead.
          const error = Object.assign(new Error('this HTTP/2 session is closed; the pool retired it'), { code: SESSION_CLOSED_CODE });
          queueMicrotask(() => callback(error, null));
          return;
        }
        hasConnected = true;
        connector(connectParams, callback);
      };
      const client = new Client(origin, {
        ...options.client,
        allowH2: true,
        pipelining: budget,
        connect: connectOnce,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        pingInterval: options.pingIntervalMs,
      });
      // undici reports through 'connectionError'/'disconnect'; guard 'error' so nothing is ever uncaught.
      (client as EventEmitter).on('error', ignore);

      let session: ClientHttp2Session;
      try {
        session = await openSession(client, ctx.signal);
      } catch (error) {
        client.destroy().catch(ignore);
        throw error;
      }
      finishStreamsOnGracefulGoaway(session);

      const state: SessionState = {
        session,
        maxStreams: streamBudget(session),
        isRetired: false,
        retire(reason: unknown) {
          if (state.isRetired) return;
          state.isRetired = true;
          ctx.invalidate(reason);
        },
      };
      sessionStates.set(client, state);
      const retireOn = (_origin: unknown, _targets: unknown, error: unknown) => state.retire(error);
      client.on('disconnect', retireOn);
      client.on('connectionError', retireOn);
      session.on('goaway', (code: number) => state.retire(new Error(`HTTP/2 GOAWAY received with code ${code}`)));
      session.on('close', () => state.retire(new Error('HTTP/2 session closed')));
      // A server may lower (or raise) its stream limit at any time.
      session.on('remoteSettings', () => {
        state.maxStreams = streamBudget(session);
      });
      return client;
    },

    async destroy(client: Client): Promise<void> {
      const state = sessionStates.get(client);
      if (state !== undefined) state.isRetired = true;
      await client.destroy().catch(ignore);
    },

    async validate(client: Client, ctx: ValidateContext<Http2Node>): Promise<boolean> {
      const state = sessionStates.get(client);
      if (state === undefined || !isUsable(client, state)) return false;
      if (options.ping === true) return pingSession(state.session, ctx.signal);
      if (typeof options.ping === 'function') return (await options.ping(client, ctx.signal)) === true;
      return true;
    },

    maxLeases(client: Client): number {
      return sessionStates.get(client)?.maxStreams ?? budget;
    },

    isBroken(_error: unknown, client: Client): boolean {
      const state = sessionStates.get(client);
      return state === undefined || !isUsable(client, state);
    },
  };
}

function isUsable(client: Client, state: SessionState): boolean {
  return !state.isRetired && !client.destroyed && !client.closed && !state.session.closed && !state.session.destroyed;
}

/** Sends an HTTP/2 PING and resolves true when its ack arrives, false on error or abort. */
function pingSession(session: ClientHttp2Session, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const isSent = session.ping((error) => {
        signal.removeEventListener('abort', onAbort);
        resolve(error === null);
      });
      // Too many pings already unanswered: the session is busy pinging, not broken.
      if (!isSent) {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }
    } catch {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }
  });
}
