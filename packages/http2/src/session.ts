import { createRequire } from 'node:module';
import http2, { type ClientHttp2Session } from 'node:http2';
import type { Client } from 'undici';

/*
 * undici 7 has no public way to open a Client's connection before its first request, nor to
 * reach the HTTP/2 session it runs on (to read the peer's SETTINGS and hear its GOAWAY). Both
 * sit behind undici's internal symbols, read here and nowhere else. undici is pinned to an exact
 * version in package.json; if a future version moves them, `openSession` fails loudly.
 */
const undiciSymbols = createRequire(import.meta.url)('undici/lib/core/symbols.js') as Record<string, unknown>;
const kConnect = undiciSymbols['kConnect'];
const kHTTP2Session = undiciSymbols['kHTTP2Session'];
const kHTTPContext = undiciSymbols['kHTTPContext'];

interface ClientInternals {
  [key: symbol]: unknown;
}

/** The protocol-specific context of a connected Client. */
interface HttpContext {
  version: 'h1' | 'h2';
}

function internalsOf(client: Client): ClientInternals {
  return client as unknown as ClientInternals;
}

/**
 * Connects `client` now and resolves with its HTTP/2 session once the peer's first SETTINGS
 * frame arrived (so `session.remoteSettings` is the server's). Rejects when the connect fails,
 * the peer negotiated HTTP/1.1, or `signal` aborts; the caller destroys the client then.
 */
export function openSession(client: Client, signal: AbortSignal): Promise<ClientHttp2Session> {
  return new Promise<ClientHttp2Session>((resolve, reject) => {
    if (typeof kConnect !== 'symbol' || typeof kHTTP2Session !== 'symbol' || typeof kHTTPContext !== 'symbol') {
      reject(new Error('@pool/http2: this undici version does not expose the internals @pool/http2 needs (use undici 7.30.2)'));
      return;
    }
    const internals = internalsOf(client);
    let session: ClientHttp2Session | undefined;
    const cleanup = () => {
      client.off('connectionError', onConnectionError);
      signal.removeEventListener('abort', onAbort);
      session?.off('remoteSettings', onSettings);
      session?.off('close', onSessionClose);
    };
    const fail = (error: unknown) => {
      cleanup();
      reject(error);
    };
    const onConnectionError = (_origin: unknown, _targets: unknown, error: Error) => fail(error);
    const onAbort = () => fail(signal.reason);
    const onSettings = () => {
      cleanup();
      resolve(session as ClientHttp2Session);
    };
    const onSessionClose = () => fail(new Error('HTTP/2 session closed before the peer sent its SETTINGS'));
    const onConnected = () => {
      const context = internals[kHTTPContext] as HttpContext | null | undefined;
      session = internals[kHTTP2Session] as ClientHttp2Session | null | undefined ?? undefined;
      if (context?.version !== 'h2' || session === undefined) {
        const error = new Error('the server did not negotiate HTTP/2 (ALPN "h2"); @pool/http2 speaks HTTP/2 only');
        fail(Object.assign(error, { code: 'POOL_HTTP2_NOT_NEGOTIATED' }));
        return;
      }
      // undici creates the session synchronously before emitting 'connect', and the peer's frames
      // are read later, so this listener cannot miss the first SETTINGS.
      session.once('remoteSettings', onSettings);
      session.once('close', onSessionClose);
    };
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    client.on('connectionError', onConnectionError);
    signal.addEventListener('abort', onAbort, { once: true });
    (internals[kConnect] as (this: Client, callback: () => void) => void).call(client, onConnected);
  });
}

/**
 * undici 7 destroys the socket on any GOAWAY, so streams the server would still finish fail
 * (RFC 9113 6.8: streams up to the GOAWAY's last stream id may complete; a graceful shutdown
 * counts on it). On a NO_ERROR GOAWAY Node's own session stops new streams and closes once the
 * ones in flight end: undici's handler is taken off for that case only, so they end normally. An
 * error GOAWAY still goes to undici's handler, which fails everything at once.
 */
export function finishStreamsOnGracefulGoaway(session: ClientHttp2Session): void {
  const handlers = session.listeners('goaway');
  // Only undici's own handler is expected here; anything else is left as it is.
  if (handlers.length !== 1) return;
  const undiciOnGoaway = handlers[0] as (this: ClientHttp2Session, ...args: unknown[]) => void;
  session.removeListener('goaway', undiciOnGoaway);
  session.on('goaway', function onGoaway(this: ClientHttp2Session, code: number, ...rest: unknown[]) {
    if (code !== http2.constants.NGHTTP2_NO_ERROR) undiciOnGoaway.call(this, code, ...rest);
  });
}
