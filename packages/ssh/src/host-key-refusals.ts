import { createHash } from 'node:crypto';
import type { SshError } from './errors.js';
import type { HostKeyPolicy } from './host-keys.js';

/**
 * How long a host-key refusal is repeated without connecting again, while what we would check
 * the key against is unchanged. Long enough to cover core's create retries of one acquire
 * (full-jitter backoff, default base 100 ms); short enough that a server whose key was fixed is
 * tried again soon.
 */
export const HOST_KEY_REFUSAL_MEMORY_MS = 5_000;

/**
 * The host-key refusals of a pool's nodes. A refusal happens before any credential is sent, and
 * neither the server's key nor our known keys change between two tries a few hundred ms apart:
 * connecting again would only repeat the handshake and the same refusal. So a create for a node
 * refused moments ago, with the same known keys, fails at once with the same error. Editing
 * known_hosts (or the node's hostKeys) makes the next create connect again.
 */
export class HostKeyRefusals {
  private readonly byNode = new Map<string, { error: SshError; policy: string; at: number }>();

  /** The refusal to repeat for `nodeId` under `policy`, if any. */
  recent(nodeId: string, policy: HostKeyPolicy, now = Date.now()): SshError | undefined {
    const refusal = this.byNode.get(nodeId);
    if (refusal === undefined) return undefined;
    if (now - refusal.at > HOST_KEY_REFUSAL_MEMORY_MS || refusal.policy !== digest(policy)) {
      this.byNode.delete(nodeId);
      return undefined;
    }
    return refusal.error;
  }

  remember(nodeId: string, policy: HostKeyPolicy, error: SshError, now = Date.now()): void {
    this.byNode.set(nodeId, { error, policy: digest(policy), at: now });
  }

  /** The node's key was accepted: nothing to repeat. */
  forget(nodeId: string): void {
    this.byNode.delete(nodeId);
  }
}

/** A digest of the keys a policy accepts and rejects (not where they were found). */
function digest(policy: HostKeyPolicy): string {
  const hash = createHash('sha256');
  for (const pin of policy.pins) hash.update('fingerprint' in pin ? `p:${pin.fingerprint}\n` : `k:${pin.key.type}:${pin.key.blob.toString('base64')}\n`);
  for (const entry of policy.known) hash.update(`${entry.marker ?? ''}:${entry.hosts}:${entry.key.type}:${entry.key.blob.toString('base64')}\n`);
  return hash.digest('base64');
}
