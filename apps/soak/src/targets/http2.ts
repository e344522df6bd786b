import { createHttp2Pool } from '@pool/http2';
import { startHttp2Server } from '@pool/testkit/http2';
import { WrongResult } from '../errors.js';
import { connectionBounds, SHARED_POOL_OPTIONS, type SoakTarget } from '../target.js';

const STREAMS_PER_SESSION = 8;

/** Two h2c servers; each operation is a GET whose status and body are checked. */
export async function startHttp2(): Promise<SoakTarget> {
  const servers = await Promise.all([startHttp2Server(), startHttp2Server()]);
  const [a, b] = servers as [typeof servers[0], typeof servers[0]];
  const pool = createHttp2Pool({
    ...SHARED_POOL_OPTIONS,
    nodes: servers.map((server, index) => ({ id: `h2-${index}`, origin: server.origin })),
    maxLeasesPerConnection: STREAMS_PER_SESSION,
  });
  const sessionsPerNode = 10;
  return {
    name: 'http2',
    setup: `2 h2c servers, ${STREAMS_PER_SESSION} streams per session, sessionsPerNode ${sessionsPerNode} (default), 24 callers`,
    pool,
    ...connectionBounds(servers.length, sessionsPerNode, STREAMS_PER_SESSION, 24),
    op: async (sequence) => {
      const [path, expected] = sequence % 2 === 0 ? ['/delay?ms=2', 'delayed'] : ['/hello', 'hello'];
      const response = await pool.request({ method: 'GET', path });
      const body = await response.body.text();
      if (response.statusCode !== 200 || body !== expected) {
        throw new WrongResult(`GET ${path}: ${response.statusCode} "${body.slice(0, 40)}"`);
      }
    },
    faults: [
      { at: 0.1, name: 'GOAWAY (graceful) on every session of h2-0', run: async () => a.goaway() },
      { at: 0.2, name: 'GOAWAY (code 0, last stream 0) then close, on h2-1', run: async () => b.goaway({ graceful: false }) },
      { at: 0.3, name: 'restart h2-0 (300 ms down)', run: () => a.restart({ downtimeMs: 300 }) },
      { at: 0.45, name: 'drop every session of h2-1 without GOAWAY', run: async () => b.dropSessions() },
    ],
    // README "GOAWAY, lost connections, restarts" and "Errors": a GET cut off by a lost session is
    // retried, and fails UND_ERR_SOCKET only when the retries are lost too; creates while a server
    // is down fail CREATE_FAILED, then NODE_UNAVAILABLE.
    expectedFaultErrors: ['UND_ERR_SOCKET', 'CREATE_FAILED', 'NODE_UNAVAILABLE'],
    secrets: [],
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}
