import { acquireOptionsOf, createPool, type Pool } from '@pool/core';
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
    // One body for the overloads: what it resolves follows `encoding`.
    exec: ((command: string, execOptions: SshExecOptions = {}): Promise<SshExecResult<string | Buffer>> => {
      try {
        checkExecEncoding(execOptions.encoding);
      } catch (error) {
        return Promise.reject(error);
      }
      return onLease(execOptions, (client, track) => execOnClient(client, command, execOptions, track));
    }) as SshPool['exec'],
    spawn(command: string, spawnOptions: SshSpawnOptions = {}): Promise<ClientChannel> {
      return spawnOnPool(pool, command, spawnOptions);
    },
    sftp<R>(fn: (sftp: SFTPWrapper) => Promise<R> | R, sftpOptions: SshSftpOptions = {}): Promise<R> {
      return onLease(sftpOptions, (client, track) => sftpOnClient(client, fn, sftpOptions, track));
    },
  });
}
