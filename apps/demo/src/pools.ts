import * as grpc from '@grpc/grpc-js';
import type { Pool, PoolNode } from '@pool/core';
import { createGrpcPool, type GrpcPool } from '@pool/grpc';
import { createHttp2Pool, type Http2Pool } from '@pool/http2';
import { createPgPool, type PgPool } from '@pool/pg';
import { createSshPool, type SshPool } from '@pool/ssh';
import { createTcpPool, type TcpPool } from '@pool/tcp';
import { POOL_NAMES, type PoolName } from './config.js';
import type { Peers } from './peers.js';

/** What the dashboard, metrics and shutdown need from any of the five pools. */
export type PoolView = Pick<Pool<unknown, PoolNode>, 'stats' | 'health' | 'drain' | 'on' | 'off'>;

export interface Pools {
  tcp: TcpPool;
  http2: Http2Pool;
  grpc: GrpcPool;
  ssh: SshPool;
  pg: PgPool;
  /** The five pools by name, in dashboard order. */
  all: ReadonlyArray<{ name: PoolName; pool: PoolView }>;
  /** Drains every pool at once; resolves when all are drained. */
  drainAll(timeoutMs: number): Promise<void>;
}

/** The pg pool's partitions: interactive queries may never be starved by batch work. */
export const PG_PARTITIONS = { api: { max: 4, priority: 10 }, batch: { max: 2 } };

/**
 * Settings shared by every pool: short timeouts and a quick circuit breaker, so a stopped peer
 * shows up on the dashboard within a few seconds and its recovery just as fast.
 */
const common = {
  acquireTimeoutMs: 2_000,
  createTimeoutMs: 2_000,
  createRetry: { attempts: 2, baseDelayMs: 100, maxDelayMs: 500 },
  circuitBreaker: { failureThreshold: 3, cooldownMs: 3_000 },
  minIdlePerNode: 1,
  idleTimeoutMs: 30_000,
  healthCheckIntervalMs: 2_000,
  validateOnAcquire: { idleForMs: 1_000 },
  maxWaiting: 200,
};

/** One pool per transport, all in this process, over the peers' endpoints. */
export function createPools(peers: Peers): Pools {
  const created: PoolView[] = [];
  try {
    const tcp = keep(created, createTcpPool({ ...common, nodes: peers.tcp, maxPerNode: 4, connectTimeoutMs: 1_000 }));
    const http2 = keep(created, createHttp2Pool({
      ...common,
      nodes: peers.http2.nodes,
      sessionsPerNode: 2,
      maxLeasesPerConnection: 8,
      headersTimeoutMs: 2_000,
      bodyTimeoutMs: 2_000,
    }));
    const grpcPool = keep(created, createGrpcPool({
      ...common,
      nodes: peers.grpc.nodes,
      credentials: peers.grpc.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      healthCheck: { service: '' },
      validationTimeoutMs: 1_000,
      maxPerNode: 2,
      maxLeasesPerConnection: 8,
    }));
    const ssh = keep(created, createSshPool({
      ...common,
      nodes: peers.ssh.nodes,
      knownHostsFile: false,
      keepaliveIntervalMs: 5_000,
      maxPerNode: 2,
      maxLeasesPerConnection: 4,
    }));
    const pg = keep(created, createPgPool({
      ...common,
      nodes: peers.pg,
      applicationName: 'pool-demo',
      maxPerNode: 6,
      partitions: PG_PARTITIONS,
      queryTimeoutMs: 3_000,
    }));
    const byName: Record<PoolName, PoolView> = { pg, http2, grpc: grpcPool, ssh, tcp };
    return {
      tcp,
      http2,
      grpc: grpcPool,
      ssh,
      pg,
      all: POOL_NAMES.map((name) => ({ name, pool: byName[name] })),
      async drainAll(timeoutMs) {
        await Promise.allSettled(POOL_NAMES.map((name) => byName[name].drain({ timeoutMs })));
      },
    };
  } catch (error) {
    // A bad external setting: do not leave the pools already made warming up connections.
    void Promise.allSettled(created.map((pool) => pool.drain({ timeoutMs: 0 })));
    throw error;
  }
}

function keep<T extends PoolView>(created: PoolView[], pool: T): T {
  created.push(pool);
  // The dashboard reads errors from stats and events; a pool 'error' never goes unheard.
  pool.on('error', () => {});
  return pool;
}
