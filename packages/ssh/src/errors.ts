/** Stable codes of the errors @pool/ssh raises itself (pool errors stay `PoolError`). */
export type SshErrorCode =
  /** The server's host key is not in `hostKeys` / known_hosts and nothing is known for the host. */
  | 'HOST_KEY_UNKNOWN'
  /** Keys are known for the host but the presented one is none of them: changed key or interception. */
  | 'HOST_KEY_MISMATCH'
  /** The presented key is marked `@revoked` in known_hosts. */
  | 'HOST_KEY_REVOKED'
  /** The server rejected every configured authentication method. */
  | 'AUTH_FAILED'
  /** TCP connect, handshake or protocol failure while connecting. */
  | 'CONNECT_FAILED'
  /** The connection went away under a running command or SFTP session. */
  | 'CONNECTION_LOST'
  /** The server refused to open a channel (e.g. MaxSessions reached). */
  | 'CHANNEL_FAILED'
  /** `exec`/`sftp` ran past its `timeoutMs`; the channel was closed. */
  | 'TIMEOUT'
  /** A command wrote more than `maxOutputBytes`; the channel was closed. */
  | 'OUTPUT_TOO_LARGE';

/**
 * An error of the SSH layer. The message names the node, the host and what to do; it never
 * holds a password, private key or passphrase, and `cause` is a scrubbed copy of the driver's error.
 */
export class SshError extends Error {
  readonly code: SshErrorCode;
  /** Id of the node the error happened on. */
  readonly node: string;
  /**
   * What a command wrote to stdout before its `exec` failed (TIMEOUT, OUTPUT_TOO_LARGE,
   * CONNECTION_LOST once its channel was open), decoded as its `encoding` asked. Not enumerable,
   * so loggers that print an error's fields leave the output out.
   */
  declare readonly stdout?: string | Buffer;
  /** What the command wrote to stderr before it failed; as `stdout`. */
  declare readonly stderr?: string | Buffer;

  constructor(code: SshErrorCode, node: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SshError';
    this.code = code;
    this.node = node;
  }
}

export function isSshError(error: unknown, code?: SshErrorCode): error is SshError {
  return error instanceof SshError && (code === undefined || error.code === code);
}

/** Replaces every occurrence of every non-empty secret in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === '') continue;
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * A copy of a driver error safe to attach as `cause`: message and stack scrubbed of secrets,
 * `code` and ssh2's `level` kept, nothing else (driver errors can carry config objects).
 */
export function scrubbed(error: unknown, secrets: readonly string[]): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  copy.stack = redact(source.stack ?? copy.stack ?? '', secrets);
  const { code, level } = source as { code?: unknown; level?: unknown };
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  if (typeof level === 'string') Object.assign(copy, { level });
  return copy;
}

/** `code: message` of a driver error, scrubbed, for embedding in our own messages. */
export function describeDriverError(error: unknown, secrets: readonly string[]): string {
  if (!(error instanceof Error)) return redact(String(error), secrets);
  const code = (error as { code?: unknown }).code;
  const prefix = typeof code === 'string' && !error.message.includes(code) ? `${code}: ` : '';
  return redact(`${prefix}${error.message}`, secrets);
}
