import { acquireOptionsOf, checkCallTimeout, createPool, holdWhile, invalidOption, rejectUnknownOptions, type Pool } from '@pool/core';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { retryableErrors, type TrackClosing } from './channel.js';
import { checkExecEncoding, execOnClient, type SshExecOptions, type SshExecResult } from './exec.js';
import { createSshFactory } from './factory.js';
import { endLease, MAX_ATTEMPTS } from './lease-end.js';
import { resolveSshOptions, validateNode, type SshNode, type SshPoolOptions } from './options.js';
import { sftpOnClient, type SshSftpOptions } from './sftp.js';
import { spawnOnPool, type SshSpawnOptions } from './spawn.js';

/** A pool of ssh2 `Client`s; every `Pool` method plus `exec` and `sftp`. */
export interface SshPool extends Pool<Client, SshNode> {
  /**
   * Runs `command` on a pooled connection, sharing it with other channels (up to
   * `maxLeasesPerConnection`). Resolves `{ stdout, stderr, code, signal }` for any exit status;
   * rejects on `timeoutMs` / `signal` after closing the channel.
   */
  exec(command: string, options: SshExecOptions & { encoding: 'buffer' }): Promise<SshExecResult<Buffer>>;
  exec(command: string, options?: SshExecOptions & { encoding?: BufferEncoding }): Promise<SshExecResult>;
  exec(command: string, options?: SshExecOptions): Promise<SshExecResult<string | Buffer>>;
  /**
   * Starts `command` on a pooled connection and resolves its ssh2 `ClientChannel` once the
   * channel is open: stdout is the channel itself (a Duplex whose write side is stdin), stderr is
   * `channel.stderr`, the exit status comes with `'exit'` and `'close'`. The lease ends when the
   * channel closes: after the command exited and its stdout was read to the end, or after
   * `destroy()`, `timeoutMs`, `signal` or a lost connection (those destroy the channel with the error).
   */
  spawn(command: string, options?: SshSpawnOptions): Promise<ClientChannel>;
  /** Opens an SFTP channel on a pooled connection, runs `fn` with it and closes it. */
  sftp<R>(fn: (sftp: SFTPWrapper) => Promise<R> | R, options?: SshSftpOptions): Promise<R>;
}

/**
 * Creates a pool of SSH connections. Host keys are verified (node `hostKeys` or known_hosts);
 * channels are multiplexed, 10 per connection by default (OpenSSH's MaxSessions).
 *
 * @throws PoolError INVALID_OPTIONS naming the option when options are invalid.
 */
export function createSshPool(options: SshPoolOptions): SshPool {
  const { ssh, pool: poolOptions } = resolveSshOptions(options);
  const pool = createPool<Client, SshNode>({ ...poolOptions, factory: createSshFactory(ssh) });
  const addNode = pool.addNode.bind(pool);

  /**
   * Acquires, runs `work`, and ends the lease exactly once: after every channel close `work` could
   * not wait for (timeouts, aborts) has settled; destroyed when the connection is not reusable.
   */
  const onLease = async <R>(options: SshExecOptions | SshSftpOptions, work: (client: Client, track: TrackClosing) => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      const lease = await pool.acquire(acquireOptionsOf(options));
      const closing: Promise<void>[] = [];
      let result: R;
      try {
        result = await work(lease.connection, (pending) => closing.push(pending));
      } catch (error) {
        if (closing.length > 0) void Promise.all(closing).then(() => endLease(lease, error));
        else await endLease(lease, error);
        // Nothing ran (a refused channel, a connection found dead): try again on a new lease.
        if (attempt < MAX_ATTEMPTS && error instanceof Error && retryableErrors.has(error)) continue;
        throw error;
      }
      await Promise.all(closing);
      await endLease(lease, undefined);
      return result;
    }
  };

  return Object.assign(pool, {
    addNode(node: SshNode): void {
      validateNode(node, ssh, 'node');
      addNode(node);
    },
    // holdWhile: the process stays alive until the call settles, however long it waits for a
    // connection (DESIGN "Process lifetime"). One body for the overloads: what it resolves follows `encoding`.
    exec: ((command: string, execOptions: SshExecOptions = {}): Promise<SshExecResult<string | Buffer>> => {
      try {
        // The command itself is never shown: it may carry credentials.
        if (typeof command !== 'string' || command === '') {
          throw invalidOption('command', undefined, 'must be a non-empty string', command === '' ? '""' : `a ${typeof command}`);
        }
        checkCallOptions(execOptions, 'exec');
        checkExecEncoding(execOptions.encoding);
      } catch (error) {
        return Promise.reject(error);
      }
      return holdWhile(onLease(execOptions, (client, track) => execOnClient(client, command, execOptions, track)));
    }) as SshPool['exec'],
    spawn(command: string, spawnOptions: SshSpawnOptions = {}): Promise<ClientChannel> {
      try {
        if (typeof command !== 'string' || command === '') {
          throw invalidOption('command', undefined, 'must be a non-empty string', command === '' ? '""' : `a ${typeof command}`);
        }
        checkCallOptions(spawnOptions, 'spawn');
      } catch (error) {
        return Promise.reject(error);
      }
      // Until the channel is open; then the channel's own streams (and the ref'd ssh2 socket) do.
      return holdWhile(spawnOnPool(pool, command, spawnOptions));
    },
    sftp<R>(fn: (sftp: SFTPWrapper) => Promise<R> | R, sftpOptions: SshSftpOptions = {}): Promise<R> {
      try {
        if (typeof fn !== 'function') throw invalidOption('fn', fn, 'must be a function (sftp) => result, called with the SFTP session');
        checkCallOptions(sftpOptions, 'sftp');
      } catch (error) {
        return Promise.reject(error);
      }
      return holdWhile(onLease(sftpOptions, (client, track) => sftpOnClient(client, fn, sftpOptions, track)));
    },
  });
}

/** The per-call option names: a misspelled one (`timeoutMS`) is refused, not silently ignored. */
const ACQUIRE_NAMES = ['node', 'affinityKey', 'partition', 'priority', 'signal', 'acquireTimeoutMs'] satisfies (keyof SshSftpOptions)[];
const SFTP_OPTION_NAMES = new Set<string>([...ACQUIRE_NAMES, 'timeoutMs'] satisfies (keyof SshSftpOptions)[]);
const EXEC_OPTION_NAMES = new Set<string>([...SFTP_OPTION_NAMES, ...(['stdin', 'maxOutputBytes', 'killSignal', 'encoding'] satisfies (keyof SshExecOptions)[])]);
const SPAWN_OPTION_NAMES = new Set<string>([...SFTP_OPTION_NAMES, ...(['killSignal'] satisfies (keyof SshSpawnOptions)[])]);

/** Refuses per-call settings that would never time out or never cap (NaN, '50', -1), naming them. */
function checkCallOptions(options: SshExecOptions | SshSftpOptions | SshSpawnOptions, call: 'exec' | 'sftp' | 'spawn'): void {
  if (options === null || typeof options !== 'object') throw invalidOption(`${call} options`, options, 'must be an object');
  rejectUnknownOptions(options, call === 'exec' ? EXEC_OPTION_NAMES : call === 'spawn' ? SPAWN_OPTION_NAMES : SFTP_OPTION_NAMES);
  checkCallTimeout('timeoutMs', options.timeoutMs);
  checkCallTimeout('acquireTimeoutMs', options.acquireTimeoutMs);
  if (call === 'sftp') return;
  const { maxOutputBytes, killSignal } = options as SshExecOptions;
  if (maxOutputBytes !== undefined && !(typeof maxOutputBytes === 'number' && maxOutputBytes >= 0 && !Number.isNaN(maxOutputBytes))) {
    throw invalidOption('maxOutputBytes', maxOutputBytes, 'must be a number of bytes >= 0 (or Infinity)');
  }
  if (killSignal !== undefined && (typeof killSignal !== 'string' || killSignal === '')) {
    throw invalidOption('killSignal', killSignal, 'must be a signal name such as "KILL" or "TERM"');
  }
}
