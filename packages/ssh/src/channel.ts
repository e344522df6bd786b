import { PoolError } from '@pool/core';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { describeDriverError, scrubbed, SshError } from './errors.js';
import { stateOf, type ConnectionState } from './factory.js';

/** Errors of a channel that never reached a command (a refused open, a dead connection): another try may serve. */
export const retryableErrors = new WeakSet<Error>();

/** The sequence number each opened channel has in its connection's {@link SessionCount}. */
const channelSeqs = new WeakMap<ClientChannel | SFTPWrapper, number>();

/** How long the server may take to confirm a channel's open or close before the connection is retired. */
export const CHANNEL_CLOSE_GRACE_MS = 2_000;

/**
 * Where an operation reports the channel closes it could not wait for: the lease must outlive
 * them, so the server's session slots and the pool's lease count stay in step.
 */
export type TrackClosing = (closing: Promise<void>) => void;

/**
 * Opens a channel with `open`. When `stop` aborts first, rejects at once with its reason; the
 * open still in flight is tracked: the channel is closed when it arrives, and the connection is
 * retired if it does not arrive within the grace.
 */
export function openChannel<T extends ClientChannel | SFTPWrapper>(
  client: Client,
  kind: 'exec' | 'sftp',
  open: (callback: (error: Error | undefined, channel: T) => void) => void,
  stop: AbortSignal,
  track: TrackClosing,
): Promise<T> {
  const state = requireState(client);
  return new Promise<T>((resolve, reject) => {
    if (stop.aborted) return reject(stop.reason);
    let lateOpen: ((error: Error | undefined, channel: T | undefined) => void) | undefined;
    const onStop = () => {
      reject(stop.reason);
      track(new Promise<void>((settle) => {
        const grace = setTimeout(() => {
          state.isRetired = true; // a slot the server may hold that we cannot see
          settle();
        }, CHANNEL_CLOSE_GRACE_MS).unref();
        lateOpen = (error, channel) => {
          clearTimeout(grace);
          if (error !== undefined || channel === undefined) return settle();
          void closeChannel(client, channel).then(settle);
        };
      }));
    };
    stop.addEventListener('abort', onStop, { once: true });
    const seq = state.sessions.openSent();
    const opened = (error: Error | undefined, channel: T) => {
      stop.removeEventListener('abort', onStop);
      const heldBefore = state.sessions.heldWhenAnswered(seq);
      state.sessions.answered(seq, error === undefined);
      if (error === undefined) {
        const { limits } = state;
        if (heldBefore + 1 > limits.provenSessions) limits.provenSessions = heldBefore + 1;
        channelSeqs.set(channel, seq);
        channel.once('close', () => state.sessions.closeSent(seq));
      }
      if (lateOpen !== undefined) return lateOpen(error, channel);
      if (error === undefined) return resolve(channel);
      reject(openFailure(state, kind, heldBefore, error));
    };
    try {
      open(opened);
    } catch (error) {
      // ssh2 throws "Not connected" synchronously when the socket is gone: nothing was sent, so
      // another connection may serve the call.
      state.isClosed = true;
      stop.removeEventListener('abort', onStop);
      state.sessions.answered(seq, false);
      const failure = openFailure(state, kind, 0, error instanceof Error ? error : new Error(String(error)));
      retryableErrors.add(failure);
      reject(failure);
    }
  });
}

function openFailure(state: ConnectionState, kind: string, openBefore: number, error: Error): SshError {
  // A CHANNEL_OPEN_FAILURE (ssh2 sets `reason`): the server refused before anything ran, so the
  // caller may retry. Refused with `openBefore` channels surely held there, and at least as many
  // as it ever surely held at once, that is its MaxSessions: remember it for the node.
  const isRefusal = typeof (error as { reason?: unknown }).reason === 'number';
  const isSessionLimit = isRefusal && openBefore > 0 && openBefore >= state.limits.provenSessions;
  if (isSessionLimit && openBefore < (state.limits.learnedMaxSessions ?? Infinity)) {
    state.limits.learnedMaxSessions = openBefore;
    // This connection holds more leases than the server allows: replace it (once per node); the
    // node's next connections are created with the learned cap.
    state.isRetired = true;
  }
  const code = state.isClosed ? 'CONNECTION_LOST' : 'CHANNEL_FAILED';
  const failure = new SshError(code, state.node.id,
    `cannot open an ${kind} channel on ${state.where}: ${describeDriverError(error, state.secrets)}` +
    (isSessionLimit ? ` (refused with ${openBefore} open: the server's MaxSessions is below maxLeasesPerConnection)` : ''),
    { cause: scrubbed(error, state.secrets) });
  if (isRefusal) retryableErrors.add(failure);
  return failure;
}

/**
 * Closes `channel` (sending `killSignal` first for commands) and resolves once the server
 * confirmed the close, or after {@link CHANNEL_CLOSE_GRACE_MS}: then the connection is retired,
 * since the server still counts a session we cannot see. (OpenSSH confirms the close of a
 * command's channel only when the command has exited.)
 */
export function closeChannel(client: Client, channel: ClientChannel | SFTPWrapper, killSignal?: string): Promise<void> {
  const state = requireState(client);
  const outgoing = (channel as unknown as { outgoing?: { state?: string } }).outgoing;
  return new Promise((resolve) => {
    if (outgoing?.state === 'closed' || state.isClosed) return resolve();
    const timer = setTimeout(() => {
      state.isRetired = true;
      resolve();
    }, CHANNEL_CLOSE_GRACE_MS).unref();
    channel.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    const seq = channelSeqs.get(channel);
    if (seq !== undefined) state.sessions.closeSent(seq);
    try {
      if (isSftp(channel)) {
        channel.end();
      } else {
        if (killSignal !== undefined) {
          try {
            sendSignal(client, channel, killSignal);
          } catch {
            // ssh2 refuses names outside RFC 4254's list; the close still ends the channel.
          }
        }
        channel.close();
      }
    } catch {
      // Already closing; the 'close' event or the grace ends the wait.
    }
  });
}

/**
 * Sends a "signal" channel request. ssh2's `channel.signal()` does nothing once stdin got EOF,
 * which `exec` always sends, though RFC 4254 allows requests after EOF; so this goes to the
 * protocol object of the pinned ssh2 1.17. OpenSSH delivers it to the command's process group
 * when the session runs under privilege separation (any login but root).
 */
function sendSignal(client: Client, channel: ClientChannel, name: string): void {
  const protocol = (client as unknown as { _protocol?: { signal?: (id: number, signal: string) => void } })._protocol;
  const outgoing = (channel as unknown as { outgoing?: { id?: number; state?: string } }).outgoing;
  if (outgoing?.id === undefined || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return;
  if (typeof protocol?.signal === 'function') protocol.signal(outgoing.id, name);
  else channel.signal(name);
}

function isSftp(channel: ClientChannel | SFTPWrapper): channel is SFTPWrapper {
  return typeof (channel as SFTPWrapper).fastGet === 'function';
}

export function requireState(client: Client): ConnectionState {
  const state = stateOf(client);
  if (state === undefined) throw new TypeError('this ssh2 Client was not created by an @pool/ssh pool');
  return state;
}

/** The error an aborted operation rejects with: `PoolError('ABORTED')`, as an aborted acquire does. */
export function abortedError(signal: AbortSignal, what: string): PoolError {
  return new PoolError('ABORTED', `${what} was aborted`, { cause: signal.reason });
}
