import type { Client, Dispatcher } from 'undici';
import { SESSION_CLOSED_CODE, sessionStateOf } from './factory.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Errors that mean the session (not just this stream) is gone. */
const SESSION_LOSS_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ECONNRESET',
  'EPIPE',
  SESSION_CLOSED_CODE,
]);

/** undici's messages for a stream that ended before any response headers. */
const STREAM_CLOSED_UNANSWERED = /stream half-closed \(remote\)|stream closed before the response/;

/** Errors that never call for a retry, even if the session went away meanwhile. */
const NEVER_RETRIED_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED']);

function codeOf(error: Error): unknown {
  return (error as { code?: unknown }).code;
}

/**
 * The error itself says the session is gone: a socket or session error, or a stream the peer
 * closed without sending anything (what a session torn down under load looks like to a stream
 * before the connection's own close is reported).
 */
export function isSessionLossError(error: Error): boolean {
  const code = codeOf(error);
  if (typeof code === 'string' && SESSION_LOSS_CODES.has(code)) return true;
  return code === 'UND_ERR_INFO' && STREAM_CLOSED_UNANSWERED.test(error.message);
}

/** The error, or by now the state of its session, says the session is gone. */
export function isSessionLost(error: Error, client: Client): boolean {
  if (isSessionLossError(error)) return true;
  const state = sessionStateOf(client);
  return state === undefined || state.isRetired || client.destroyed || client.closed;
}

export function isNeverRetried(error: Error): boolean {
  const code = codeOf(error);
  return typeof code === 'string' && NEVER_RETRIED_CODES.has(code);
}

/** RFC 9113 8.7: a stream the server refused (REFUSED_STREAM) was not processed, whatever its method. */
export function isRefusedStream(error: Error): boolean {
  return codeOf(error) === 'ERR_HTTP2_STREAM_ERROR' && error.message.includes('NGHTTP2_REFUSED_STREAM');
}

/** `idempotent: true`, or GET, HEAD, OPTIONS unless `idempotent: false`. */
export function isIdempotent(options: Dispatcher.DispatchOptions): boolean {
  return options.idempotent ?? SAFE_METHODS.has(String(options.method).toUpperCase());
}

/** A body that can be sent a second time: none, a string, bytes, a Blob or FormData. Streams and iterables cannot. */
export function isReplayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    ArrayBuffer.isView(body) ||
    body instanceof ArrayBuffer ||
    body instanceof Blob ||
    body instanceof FormData
  );
}
