import { invalidOption, type AcquireOptions } from '@pool/core';
import type { Client, ClientChannel } from 'ssh2';
import { abortedError, closeChannel, openChannel, requireState, type TrackClosing } from './channel.js';
import { SshError } from './errors.js';

export interface SshExecOptions extends Omit<AcquireOptions, 'timeoutMs'> {
  /**
   * Longest the command may run, from asking for its channel to its exit; 0 or Infinity = no limit. On
   * expiry `killSignal` is sent, the channel closed, and the call rejects `SshError('TIMEOUT')`.
   * Default 0.
   */
  timeoutMs?: number;
  /** Longest to wait for a connection with a free channel slot. Default: the pool's `acquireTimeoutMs`. */
  acquireTimeoutMs?: number;
  /** Written to the command's stdin, then EOF. Without it stdin is closed at once (like `ssh -n`). */
  stdin?: string | Uint8Array;
  /** stdout and stderr together may not exceed this; past it the channel is closed. Default 16 MiB. */
  maxOutputBytes?: number;
  /** Signal sent to the command on timeout or abort, without "SIG". Default "KILL". */
  killSignal?: string;
  /**
   * How `stdout` and `stderr` come back: `'buffer'` for `Buffer`s (binary output such as
   * `tar cz`, `gzip -c`, images), else the name of the encoding to decode them with, as for
   * `child_process.exec`. Default `'utf8'` (invalid sequences become U+FFFD).
   */
  encoding?: SshExecEncoding;
}

/** `'buffer'`, or any encoding `Buffer#toString` knows (`'utf8'`, `'latin1'`, `'base64'`, ...). */
export type SshExecEncoding = BufferEncoding | 'buffer';

/** What `exec` resolves: `Output` is `Buffer` with `encoding: 'buffer'`, else `string`. */
export interface SshExecResult<Output extends string | Buffer = string> {
  /** Everything the command wrote to stdout, decoded with `encoding` (UTF-8 by default), or a Buffer. */
  stdout: Output;
  stderr: Output;
  /** Exit status; null when the command was killed by a signal or the server sent none. */
  code: number | null;
  /** Name of the signal that ended the command as ssh2 reports it, with the "SIG" prefix (e.g. "SIGTERM", "SIGKILL"), else null. */
  signal: string | null;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** @throws PoolError INVALID_OPTIONS naming `encoding` when it is neither 'buffer' nor an encoding Buffer knows. */
export function checkExecEncoding(encoding: unknown): void {
  if (encoding === undefined || encoding === 'buffer') return;
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
    throw invalidOption('encoding', encoding, "must be 'buffer' or a Buffer encoding such as 'utf8', 'latin1' or 'base64'");
  }
}

/**
 * Puts the output read so far on the error a started command fails with (TIMEOUT,
 * OUTPUT_TOO_LARGE, ABORTED, CONNECTION_LOST), as `child_process.exec` does. Not enumerable:
 * loggers that print an error's own fields must not print a command's output.
 */
function withOutput(error: unknown, stdout: string | Buffer, stderr: string | Buffer): unknown {
  if (typeof error !== 'object' || error === null) return error;
  Object.defineProperty(error, 'stdout', { value: stdout, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(error, 'stderr', { value: stderr, enumerable: false, configurable: true, writable: true });
  return error;
}

/**
 * Runs `command` on one channel of `client` and collects its output. Resolves once the server has
 * closed the channel (a non-zero exit resolves too). On timeout or abort it rejects at once and
 * hands the pending close to `track`, so the lease outlives the channel.
 */
export async function execOnClient(client: Client, command: string, options: SshExecOptions, track: TrackClosing): Promise<SshExecResult<string | Buffer>> {
  const state = requireState(client);
  const { signal, timeoutMs = 0, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES, killSignal = 'KILL' } = options;
  if (signal?.aborted === true) throw abortedError(signal, `command on ${state.where}`);
  const stopper = new AbortController();
  const onUserAbort = () => stopper.abort(abortedError(signal as AbortSignal, `command on ${state.where}`));
  signal?.addEventListener('abort', onUserAbort, { once: true });
  // The command text is never put in an error: it may carry credentials.
  // Past 2^31 ms (24.8 days, Infinity included) a timer cannot be armed: no limit.
  const timer = timeoutMs > 0 && timeoutMs < 2 ** 31
    ? setTimeout(() => stopper.abort(new SshError('TIMEOUT', state.node.id,
      `command on ${state.where} did not finish within timeoutMs ${timeoutMs}; sent SIG${killSignal.replace(/^SIG/i, '')} and closed its channel`)), timeoutMs)
    : undefined;
  try {
    const channel = await openChannel<ClientChannel>(client, 'exec', (callback) => client.exec(command, callback), stopper.signal, track);
    return await collect(client, channel, options, maxOutputBytes, killSignal, stopper, track);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onUserAbort);
  }
}

function collect(client: Client, channel: ClientChannel, options: SshExecOptions,
  maxOutputBytes: number, killSignal: string, stopper: AbortController, track: TrackClosing): Promise<SshExecResult<string | Buffer>> {
  const state = requireState(client);
  const { stdin, encoding = 'utf8' } = options;
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const decode = (chunks: Buffer[]) => (encoding === 'buffer' ? Buffer.concat(chunks) : Buffer.concat(chunks).toString(encoding));
    let outputBytes = 0;
    const onStop = () => {
      track(closeChannel(client, channel, killSignal));
      reject(withOutput(stopper.signal.reason, decode(stdout), decode(stderr)));
    };
    const onData = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > maxOutputBytes) {
        // Keep what fits, as child_process does with maxBuffer: the error carries exactly the limit.
        const room = maxOutputBytes - (outputBytes - chunk.length);
        if (room > 0) into.push(chunk.subarray(0, room));
        if (!stopper.signal.aborted) {
          stopper.abort(new SshError('OUTPUT_TOO_LARGE', state.node.id,
            `command on ${state.where} wrote more than maxOutputBytes ${maxOutputBytes}; closed its channel`));
        }
        return;
      }
      into.push(chunk);
    };
    channel.on('data', onData(stdout));
    channel.stderr.on('data', onData(stderr));
    // ssh2 passes the exit status to 'close' ((code) or (null, signal)); an 'exit' listener added
    // after the open callback could miss it, 'close' waits until the output has been read.
    channel.once('close', (code: number | null | undefined, exitSignal: string | undefined) => {
      if (stopper.signal.aborted) return; // onStop has rejected already
      stopper.signal.removeEventListener('abort', onStop);
      if (typeof code !== 'number' && typeof exitSignal !== 'string' && state.isClosed) {
        reject(withOutput(new SshError('CONNECTION_LOST', state.node.id, `connection to ${state.where} was lost while a command ran`),
          decode(stdout), decode(stderr)));
        return;
      }
      resolve({
        stdout: decode(stdout),
        stderr: decode(stderr),
        code: typeof code === 'number' ? code : null,
        signal: typeof exitSignal === 'string' ? exitSignal : null,
      });
    });
    if (stopper.signal.aborted) onStop();
    else stopper.signal.addEventListener('abort', onStop, { once: true });
    channel.on('error', () => {}); // stream errors end in 'close', handled above
    channel.end(stdin === undefined ? undefined : Buffer.from(stdin));
  });
}
