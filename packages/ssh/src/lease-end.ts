import type { Lease } from '@pool/core';
import type { Client } from 'ssh2';
import { isAlive } from './factory.js';
import type { SshNode } from './options.js';

/**
 * Tries of one exec/sftp/spawn whose channel was refused or whose connection was found dead. More
 * than two: OpenSSH still counts a just-closed session for a moment, so under churn a retry can be
 * refused once more while nothing is wrong.
 */
export const MAX_ATTEMPTS = 3;

/** Releases, or destroys when the connection is no longer usable. Never throws: the caller's outcome wins. */
export async function endLease(lease: Lease<Client, SshNode>, error: unknown): Promise<void> {
  try {
    if (isAlive(lease.connection, 0)) await lease.release();
    else await lease.destroy(error ?? new Error('connection closed'));
  } catch {
    // Only LEASE_RELEASED is possible here, and this is the one place that ends the lease.
  }
}
