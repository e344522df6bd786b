import { Duplex } from 'node:stream';
import { acquireOptionsOf, type AcquireOptions, type Lease, type Pool } from '@pool/core';
import type { Client, ClientChannel } from 'ssh2';
import { abortedError, closeChannel, openChannel, requireState, retryableErrors } from './channel.js';
import { SshError } from './errors.js';
import { endLease, MAX_ATTEMPTS } from './lease-end.js';
import type { SshNode } from './options.js';

export interface SshSpawnOptions extends Omit<AcquireOptions, 'timeoutMs'> {
  /**
   * Longest the command may run, from asking for its channel to the channel's close; 0 = no
   * limit. On expiry `killSignal` is sent and the channel closed and destroyed with
   * `SshError('TIMEOUT')`. Default 0.
   */
  timeoutMs?: number;
  /** Longest to wait for a connection with a free channel slot. Default: the pool's `acquireTimeoutMs`. */
  acquireTimeoutMs?: number;
  /** Signal sent to the command on timeout, abort or `destroy()` before it exited, without "SIG". Default "KILL". */
  killSignal?: string;
}

/** ssh2's own `destroy()` only ends and closes: the stream is never destroyed and 'close' waits for a reader. */
const destroyStream = Duplex.prototype.destroy;

/** The spawned channels of each connection, stopped when it goes (one 'close' listener per connection). */
const liveChannels = new WeakMap<Client, Set<() => void>>();

/**
 * Acquires a lease, opens an exec channel for `command` on it and hands the channel over; the lease
 * ends once the channel has closed. A refused channel (nothing ran) is retried on a new lease, as
 * for `exec`.
 */
export async function spawnOnPool(pool: Pool<Client, SshNode>, command: string, options: SshSpawnOptions): Promise<ClientChannel> {
  const { signal, timeoutMs = 0, killSignal = 'KILL' } = options;
  for (let attempt = 1; ; attempt++) {
    const lease = await pool.acquire(acquireOptionsOf(options));
    const client = lease.connection;
    const state = requireState(client);
    const stopper = new AbortController();
    const onUserAbort = () => stopper.abort(abortedError(signal as AbortSignal, `command on ${state.where}`));
    if (signal?.aborted === true) onUserAbort();
    else signal?.addEventListener('abort', onUserAbort, { once: true });
    // The command text is never put in an error: it may carry credentials.
    const timer = timeoutMs > 0
      ? setTimeout(() => stopper.abort(new SshError('TIMEOUT', state.node.id,
        `command on ${state.where} did not finish within timeoutMs ${timeoutMs}; sent SIG${killSignal.replace(/^SIG/i, '')} and closed its channel`)), timeoutMs)
      : undefined;
    const forget = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onUserAbort);
    };
    const closing: Promise<void>[] = [];
    let channel: ClientChannel;
    try {
      channel = await openChannel<ClientChannel>(client, 'exec', (callback) => client.exec(command, callback), stopper.signal,
        (pending) => closing.push(pending));
    } catch (error) {
      forget();
      if (closing.length > 0) void Promise.all(closing).then(() => endLease(lease, error));
      else await endLease(lease, error);
      if (attempt < MAX_ATTEMPTS && error instanceof Error && retryableErrors.has(error)) continue;
      throw error;
    }
    superviseChannel(client, channel, lease, stopper.signal, killSignal, forget);
    return channel;
  }
}

/**
 * Ends `lease` exactly once, when `channel` has closed. A stop (`stop` aborting, the user's
 * `destroy()`, the connection going) sends `killSignal`, closes the channel and destroys the stream
 * with the reason, so readers see the error and 'close' no longer waits for them; if the server
 * does not confirm the close within the grace, the connection is retired and the lease ends anyway.
 */
function superviseChannel(client: Client, channel: ClientChannel, lease: Lease<Client, SshNode>, stop: AbortSignal,
  killSignal: string, forget: () => void): void {
  const state = requireState(client);
  let stopReason: Error | undefined;
  let isStopped = false;
  let isEnded = false;
  const end = () => {
    if (isEnded) return;
    isEnded = true;
    forget();
    stop.removeEventListener('abort', onStop);
    channels?.delete(onConnectionGone);
    void endLease(lease, stopReason);
  };
  const halt = (reason: Error | undefined) => {
    if (isStopped || isEnded) return;
    isStopped = true;
    stopReason = reason;
    const closed = closeChannel(client, channel, killSignal);
    destroyStream.call(channel, reason);
    channel.stderr.destroy();
    void closed.then(end);
  };
  const onStop = () => halt(stop.reason instanceof Error ? stop.reason : new Error(String(stop.reason)));
  const onConnectionGone = () => {
    // ssh2 emits the client's 'close' before it closes the channels: one not closed by the server
    // yet lost its command's end, which readers must not take for a complete output.
    const incoming = (channel as unknown as { incoming?: { state?: string } }).incoming;
    if (incoming?.state !== 'closed') halt(new SshError('CONNECTION_LOST', state.node.id, `connection to ${state.where} was lost while a command ran`));
  };
  // The pool's own 'close' listeners (this one and the session count's) must not use up the
  // caller's budget: a channel piped both ways (stdin and stdout pipelines) adds 8 more.
  channel.setMaxListeners(channel.getMaxListeners() + 2);
  channel.once('close', end);
  // Errors reach the caller's listeners, pipeline() and for-await; without any, no crash.
  channel.on('error', ignore);
  channel.stderr.on('error', ignore);
  channel.destroy = (error?: Error) => {
    halt(error ?? undefined);
    return channel;
  };
  const channels = channelsOf(client);
  channels.add(onConnectionGone);
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
}

function channelsOf(client: Client): Set<() => void> {
  let channels = liveChannels.get(client);
  if (channels === undefined) {
    const created = new Set<() => void>();
    liveChannels.set(client, channels = created);
    client.once('close', () => {
      for (const onGone of [...created]) onGone();
    });
  }
  return channels;
}

function ignore(): void {}
