import type { AcquireOptions } from '@pool/core';
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
}

export interface SshExecResult {
  /** Everything the command wrote to stdout, UTF-8 decoded. */
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal or the server sent none. */
  code: number | null;
  /** Name of the signal that ended the command as ssh2 reports it, with the "SIG" prefix (e.g. "SIGTERM", "SIGKILL"), else null. */
  signal: string | null;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * Runs `command` on one channel of `client` and collects its output. Resolves once the server has
 * closed the channel (a non-zero exit resolves too). On timeout or abort it rejects at once and
 * hands the pending close to `track`, so the lease outlives the channel.
 */
export async function execOnClient(client: Client, command: string, options: SshExecOptions, track: TrackClosing): Promise<SshExecResult> {
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
    return await collect(client, channel, options.stdin, maxOutputBytes, killSignal, stopper, track);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onUserAbort);
  }
}

function collect(client: Client, channel: ClientChannel, stdin: string | Uint8Array | undefined,
  maxOutputBytes: number, killSignal: string, stopper: AbortController, track: TrackClosing): Promise<SshExecResult> {
  const state = requireState(client);
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    const onStop = () => {
      track(closeChannel(client, channel, killSignal));
      reject(stopper.signal.reason);
    };
    const onData = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > maxOutputBytes) {
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
        reject(new SshError('CONNECTION_LOST', state.node.id, `connection to ${state.where} was lost while a command ran`));
        return;
      }
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
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
