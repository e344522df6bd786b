import type { AcquireOptions } from '@pool/core';
import type { Client, SFTPWrapper } from 'ssh2';
import { abortedError, closeChannel, openChannel, requireState, type TrackClosing } from './channel.js';
import { SshError } from './errors.js';

export interface SshSftpOptions extends Omit<AcquireOptions, 'timeoutMs'> {
  /**
   * Longest the whole session may take, from asking for the channel to `fn` settling; 0 = no
   * limit (Infinity too). On expiry the SFTP channel is closed (pending operations fail) and the call rejects
   * `SshError('TIMEOUT')`. Default 0.
   */
  timeoutMs?: number;
  /** Longest to wait for a connection with a free channel slot. Default: the pool's `acquireTimeoutMs`. */
  acquireTimeoutMs?: number;
}

/**
 * Opens an SFTP channel on `client`, runs `fn` with it and closes it. Settles once the server has
 * confirmed the close; on timeout or abort it rejects at once and hands the close to `track`.
 */
export async function sftpOnClient<R>(
  client: Client,
  fn: (sftp: SFTPWrapper) => Promise<R> | R,
  options: SshSftpOptions,
  track: TrackClosing,
): Promise<R> {
  const state = requireState(client);
  const { signal, timeoutMs = 0 } = options;
  if (signal?.aborted === true) throw abortedError(signal, `SFTP session on ${state.where}`);
  const stopper = new AbortController();
  const onUserAbort = () => stopper.abort(abortedError(signal as AbortSignal, `SFTP session on ${state.where}`));
  signal?.addEventListener('abort', onUserAbort, { once: true });
  // Past 2^31 ms (24.8 days, Infinity included) a timer cannot be armed: no limit.
  const timer = timeoutMs > 0 && timeoutMs < 2 ** 31
    ? setTimeout(() => stopper.abort(new SshError('TIMEOUT', state.node.id,
      `SFTP session on ${state.where} did not finish within timeoutMs ${timeoutMs}; closed its channel`)), timeoutMs)
    : undefined;
  try {
    const sftp = await openChannel<SFTPWrapper>(client, 'sftp', (callback) => client.sftp(callback), stopper.signal, track);
    sftp.on('error', () => {}); // failures reach fn through its own callbacks
    const stopped = new Promise<never>((_resolve, reject) => {
      const onStop = () => {
        track(closeChannel(client, sftp));
        reject(stopper.signal.reason);
      };
      if (stopper.signal.aborted) onStop();
      else stopper.signal.addEventListener('abort', onStop, { once: true });
    });
    stopped.catch(() => {});
    const work = Promise.resolve().then(() => fn(sftp));
    work.catch(() => {}); // when the stop wins, fn's late rejection is expected and ignored
    let result: R;
    try {
      result = await Promise.race([work, stopped]);
    } catch (error) {
      if (!stopper.signal.aborted) await closeChannel(client, sftp);
      throw error;
    }
    await closeChannel(client, sftp);
    return result;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onUserAbort);
  }
}
