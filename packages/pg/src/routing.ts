import { isPoolError, type AcquireOptions, type Lease, type Pool } from '@pool/core';
import type pg from 'pg';
import type { PgNode } from './options.js';

/** Errors after which the next candidate node is tried: the node cannot serve right now. */
function isNodeUnavailable(error: unknown): boolean {
  return isPoolError(error, 'NODE_UNAVAILABLE') || isPoolError(error, 'NODE_UNKNOWN') || isPoolError(error, 'CREATE_FAILED');
}

/**
 * Primary/replica routing on top of core's `acquire({ node })`. It tracks roles and open circuits
 * (from the pool's events) and spreads work over the candidates round-robin. When every node is a
 * primary it stays out of the way: core's balancer and failover handle the acquire.
 */
export class NodeRouter {
  private readonly primaries: string[] = [];
  private readonly replicas: string[] = [];
  /** Node id -> when its circuit opened; after the cooldown the node gets a trial acquire again. */
  private readonly openCircuits = new Map<string, number>();
  private turn = 0;

  constructor(
    private readonly acquireFromPool: (options?: AcquireOptions) => Promise<Lease<pg.Client, PgNode>>,
    pool: Pick<Pool<pg.Client, PgNode>, 'on'>,
    nodes: readonly PgNode[],
    private readonly cooldownMs: number,
    private readonly now: () => number,
  ) {
    for (const node of nodes) this.add(node);
    pool.on('circuitOpen', ({ node }) => this.openCircuits.set(node, this.now()));
    pool.on('circuitClose', ({ node }) => this.openCircuits.delete(node));
    pool.on('nodeRemoved', ({ node }) => this.remove(node));
  }

  add(node: PgNode): void {
    this.remove(node.id);
    (node.role === 'replica' ? this.replicas : this.primaries).push(node.id);
  }

  remove(id: string): void {
    for (const list of [this.primaries, this.replicas]) {
      const index = list.indexOf(id);
      if (index >= 0) list.splice(index, 1);
    }
    this.openCircuits.delete(id);
  }

  /** `readOnly` picks the candidate list; `options` go to core's acquire unchanged. */
  acquire(options: AcquireOptions | undefined, readOnly: boolean): Promise<Lease<pg.Client, PgNode>> {
    if (this.replicas.length === 0 || options?.node !== undefined) return this.acquireFromPool(options);
    return this.acquireFrom(this.candidates(readOnly), options);
  }

  /** Healthy replicas (rotated) then healthy primaries for reads; healthy primaries for writes. Open circuits last. */
  private candidates(readOnly: boolean): string[] {
    const turn = this.turn++;
    const healthy: string[] = [];
    const open: string[] = [];
    const now = this.openCircuits.size > 0 ? this.now() : 0;
    const addRotated = (list: readonly string[]) => {
      for (let offset = 0; offset < list.length; offset++) {
        const id = list[(turn + offset) % list.length] as string;
        const openedAt = this.openCircuits.get(id);
        // Past its cooldown an open node is tried again (core lets one trial create through).
        (openedAt === undefined || now - openedAt >= this.cooldownMs ? healthy : open).push(id);
      }
    };
    if (readOnly) addRotated(this.replicas);
    addRotated(this.primaries);
    return healthy.concat(open);
  }

  private async acquireFrom(candidates: string[], options: AcquireOptions | undefined): Promise<Lease<pg.Client, PgNode>> {
    let lastError: unknown;
    for (let index = 0; index < candidates.length; index++) {
      try {
        return await this.acquireFromPool({ ...options, node: candidates[index] as string });
      } catch (error) {
        lastError = error;
        if (!isNodeUnavailable(error) || index === candidates.length - 1) throw error;
      }
    }
    throw lastError;
  }
}
