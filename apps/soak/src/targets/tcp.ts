import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { WrongResult } from '../errors.js';
import { connectionBounds, SHARED_POOL_OPTIONS, type SoakTarget } from '../target.js';

const MAX_PER_NODE = 4;

/** Two echo servers; each operation echoes one line and checks it came back unchanged. */
export async function startTcp(): Promise<SoakTarget> {
  const servers = await Promise.all([startTcpEchoServer(), startTcpEchoServer()]);
  const [a, b] = servers as [typeof servers[0], typeof servers[0]];
  const pool = createTcpPool({
    ...SHARED_POOL_OPTIONS,
    nodes: servers.map((server, index) => ({ id: `echo-${index}`, host: server.host, port: server.port })),
    maxPerNode: MAX_PER_NODE,
  });
  return {
    name: 'tcp',
    setup: `2 echo servers, maxPerNode ${MAX_PER_NODE}, 12 callers`,
    pool,
    ...connectionBounds(servers.length, MAX_PER_NODE, 1, 12),
    op: (sequence) => pool.use(async (socket) => {
      const line = `soak ${sequence}`;
      const reply = await echoRoundTrip(socket, line);
      if (reply !== line) throw new WrongResult(`sent "${line}", got "${reply}"`);
    }),
    faults: [
      { at: 0.1, name: 'reset every connection of echo-0', run: async () => a.dropConnections('reset') },
      { at: 0.25, name: 'restart echo-0 (300 ms down)', run: () => a.restart({ downtimeMs: 300 }) },
      { at: 0.4, name: 'restart echo-1', run: () => b.restart() },
    ],
    // README "Broken sockets" and "Errors": an exchange cut by the peer fails with the socket's
    // error; a create while the peer is down fails CREATE_FAILED, then NODE_UNAVAILABLE.
    expectedFaultErrors: ['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'CREATE_FAILED', 'NODE_UNAVAILABLE'],
    secrets: [],
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}
