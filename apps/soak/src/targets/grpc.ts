import * as grpc from '@grpc/grpc-js';
import { createGrpcPool } from '@pool/grpc';
import { loadTestService, startGrpcServer } from '@pool/testkit/grpc';
import { WrongResult } from '../errors.js';
import { connectionBounds, SHARED_POOL_OPTIONS, sleep, type SoakTarget } from '../target.js';

const CALLS_PER_CHANNEL = 8;

/**
 * Two grpc-js servers with the health service; the pool checks it (`healthCheck`), so NOT_SERVING
 * is a fault it must handle. Each operation is a unary echo whose reply is checked.
 */
export async function startGrpc(): Promise<SoakTarget> {
  const servers = await Promise.all([startGrpcServer({ serverId: 'grpc-0' }), startGrpcServer({ serverId: 'grpc-1' })]);
  const [a, b] = servers as [typeof servers[0], typeof servers[0]];
  const { TestService } = loadTestService();
  const maxPerNode = 10;
  const pool = createGrpcPool({
    ...SHARED_POOL_OPTIONS,
    nodes: servers.map((server, index) => ({ id: `grpc-${index}`, target: server.target })),
    credentials: grpc.credentials.createInsecure(),
    healthCheck: { service: '' },
    maxLeasesPerConnection: CALLS_PER_CHANNEL,
  });
  return {
    name: 'grpc',
    setup: `2 grpc-js servers, health checked, ${CALLS_PER_CHANNEL} calls per channel, maxPerNode ${maxPerNode} (default), 24 callers`,
    pool,
    ...connectionBounds(servers.length, maxPerNode, CALLS_PER_CHANNEL, 24),
    op: async (sequence) => {
      const message = `soak ${sequence}`;
      const reply = await pool.unary(TestService, 'Unary', { message, delayMs: sequence % 2 === 0 ? 2 : 0 });
      if (reply.message !== message) throw new WrongResult(`sent "${message}", got "${reply.message}"`);
    },
    faults: [
      { at: 0.1, name: 'restart grpc-0 (300 ms down)', run: () => a.restart({ downtimeMs: 300 }) },
      {
        at: 0.25,
        name: 'grpc-1 health NOT_SERVING for 2 s, with a 1.1 s idle pause so channels are validated',
        run: async (load) => {
          b.setHealth('', 'NOT_SERVING');
          await load.idle(1_100);
          await sleep(900);
          b.setHealth('', 'SERVING');
        },
      },
      {
        at: 0.45,
        name: 'graceful stop of grpc-1 (GOAWAY, calls finish), then start',
        run: async () => {
          await b.stop({ graceful: true, timeoutMs: 2_000 });
          await b.restart();
        },
      },
    ],
    // README "Errors": a call that never reached a channel fails UNAVAILABLE with the pool's code
    // as cause; errors of a running call are grpc-js's, passed through: UNAVAILABLE for a lost
    // connection, CANCELLED for calls a force-stopped server reset (a plain grpc-js client gets the
    // same "Call cancelled" from the same restart).
    expectedFaultErrors: [
      'grpc CANCELLED',
      'grpc UNAVAILABLE',
      'grpc UNAVAILABLE (pool CREATE_FAILED)',
      'grpc UNAVAILABLE (pool NODE_UNAVAILABLE)',
    ],
    secrets: [],
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}
