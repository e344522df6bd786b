import { acquireOptionsOf, checkCallTimeout, createPool, holdWhile, invalidOption, rejectUnknownOptions, type Lease, type Pool } from '@pool/core';
import type { Client, SFTPWrapper } from 'ssh2';
import { retryableErrors, type TrackClosing } from './channel.js';
import { execOnClient, type SshExecOptions, type SshExecResult } from './exec.js';
import { createSshFactory, isAlive } from './factory.js';
import { resolveSshOptions, validateNode, type SshNode, type SshPoolOptions } from './options.js';
import { sftpOnClient, type SshSftpOptions } from './sftp.js';

/**
 * Tries of one exec/sftp whose channel was refused or whose connection was found dead. More than
 * two: OpenSSH still counts a just-closed session for a moment, so under churn a retry can be
 * refused once more while nothing is wrong.
 */
const MAX_ATTEMPTS = 3;

/** A pool of ssh2 `Client`s; every `Pool` method plus `exec` and `sftp`. */
export interface SshPool extends Pool<Client, SshNode> {
  /**
   * Runs `command` on a pooled connection, sharing it with other channels (up to
   * `maxLeasesPerConnection`). Resolves `{ stdout, stderr, code, signal }` for any exit status;
   * rejects on `timeoutMs` / `signal` after closing the channel.
   */
  exec(command: string, options?: SshExecOptions): Promise<SshExecResult>;
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
    // connection (DESIGN "Process lifetime").
    exec(command: string, execOptions: SshExecOptions = {}): Promise<SshExecResult> {
      try {
        // The command itself is never shown: it may carry credentials.
        if (typeof command !== 'string' || command === '') {
          throw invalidOption('command', undefined, 'must be a non-empty string', command === '' ? '""' : `a ${typeof command}`);
        }
        checkCallOptions(execOptions, 'exec');
      } catch (error) {
        return Promise.reject(error);
      }
      return holdWhile(onLease(execOptions, (client, track) => execOnClient(client, command, execOptions, track)));
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
const EXEC_OPTION_NAMES = new Set<string>([...SFTP_OPTION_NAMES, ...(['stdin', 'maxOutputBytes', 'killSignal'] satisfies (keyof SshExecOptions)[])]);

/** Refuses per-call settings that would never time out or never cap (NaN, '50', -1), naming them. */
function checkCallOptions(options: SshExecOptions | SshSftpOptions, call: 'exec' | 'sftp'): void {
  if (options === null || typeof options !== 'object') throw invalidOption(`${call} options`, options, 'must be an object');
  rejectUnknownOptions(options, call === 'exec' ? EXEC_OPTION_NAMES : SFTP_OPTION_NAMES);
  checkCallTimeout('timeoutMs', options.timeoutMs);
  checkCallTimeout('acquireTimeoutMs', options.acquireTimeoutMs);
  if (call !== 'exec') return;
  const { maxOutputBytes, killSignal } = options as SshExecOptions;
  if (maxOutputBytes !== undefined && !(typeof maxOutputBytes === 'number' && maxOutputBytes >= 0 && !Number.isNaN(maxOutputBytes))) {
    throw invalidOption('maxOutputBytes', maxOutputBytes, 'must be a number of bytes >= 0 (or Infinity)');
  }
  if (killSignal !== undefined && (typeof killSignal !== 'string' || killSignal === '')) {
    throw invalidOption('killSignal', killSignal, 'must be a signal name such as "KILL" or "TERM"');
  }
}

/** Releases, or destroys when the connection is no longer usable. Never throws: the caller's outcome wins. */
async function endLease(lease: Lease<Client, SshNode>, error: unknown): Promise<void> {
  try {
    if (isAlive(lease.connection, 0)) await lease.release();
    else await lease.destroy(error ?? new Error('connection closed'));
  } catch {
    // Only LEASE_RELEASED is possible here, and this is the one place that ends the lease.
  }
}
