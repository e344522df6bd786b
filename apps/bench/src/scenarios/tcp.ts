import net from 'node:net';
import tls from 'node:tls';
import { createTcpPool, type TcpNode } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { makeTestCertificates } from '@pool/testkit/tls';
import { compare, timingFromEnv, withRatios, type BenchRow, type BenchTable, type Contestant } from '../harness.js';

const CALLERS = 8;
const NEW_PER_REQUEST = 'new socket per request';

const timing = { ...timingFromEnv({ rounds: 3, roundMs: 400, warmupMs: 200 }), sampleEvery: 4 };

type Connect = () => net.Socket;

/** Connects, waits for the socket (and TLS handshake) to be ready, with errors handled. */
function connected(connect: Connect, readyEvent: 'connect' | 'secureConnect'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect();
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once(readyEvent, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

/** The baseline: what code without a pool does, one connect (and close) per request. */
function newSocketPerRequest(connect: Connect, readyEvent: 'connect' | 'secureConnect'): Contestant {
  let sequence = 0;
  return {
    name: NEW_PER_REQUEST,
    op: async () => {
      const socket = await connected(connect, readyEvent);
      try {
        await echoRoundTrip(socket, `request ${sequence++}`);
      } finally {
        socket.destroy();
      }
    },
    close: () => undefined,
  };
}

/** The floor: each caller keeps its own socket forever; no pool, no checks. */
async function socketPerCaller(connect: Connect, readyEvent: 'connect' | 'secureConnect'): Promise<Contestant> {
  const sockets = await Promise.all(Array.from({ length: CALLERS }, () => connected(connect, readyEvent)));
  let sequence = 0;
  return {
    name: 'one socket per caller, no pool',
    op: (caller) => echoRoundTrip(sockets[caller] as net.Socket, `request ${sequence++}`),
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** @pool/tcp with its defaults (validateOnAcquire, reset checks), the way the README calls it. */
function pooled(node: TcpNode): Contestant {
  const pool = createTcpPool({ nodes: [node], maxPerNode: CALLERS });
  let sequence = 0;
  return {
    name: '@pool/tcp, pool.use()',
    op: () => pool.use((socket) => echoRoundTrip(socket, `request ${sequence++}`)),
    close: () => pool.close(),
    describe: () => {
      const stats = pool.stats();
      return `sockets created ${stats.created}, requests ${stats.acquired.toLocaleString('en-US')}`;
    },
  };
}

async function group(name: string, node: TcpNode, connect: Connect, readyEvent: 'connect' | 'secureConnect'): Promise<BenchRow[]> {
  const rows = await compare(
    [() => newSocketPerRequest(connect, readyEvent), () => pooled(node), () => socketPerCaller(connect, readyEvent)],
    { ...timing, callers: CALLERS, group: name },
  );
  withRatios(rows, NEW_PER_REQUEST);
  return rows;
}

/**
 * Request/response over pooled sockets against a new socket per request: same echo server, same
 * run, rounds interleaved. Plain TCP, then TLS (where the handshake is what pooling saves).
 */
export async function run(): Promise<BenchTable> {
  const rows: BenchRow[] = [];
  const plain = await startTcpEchoServer();
  try {
    const connect = () => net.connect({ host: plain.host, port: plain.port });
    rows.push(...(await group(`TCP, ${CALLERS} callers`, { id: 'echo', host: plain.host, port: plain.port }, connect, 'connect')));
  } finally {
    await plain.stop();
  }
  const certificates = makeTestCertificates();
  const secure = await startTcpEchoServer({ tls: { cert: certificates.cert, key: certificates.key } });
  try {
    const tlsOptions = { ca: certificates.ca };
    const connect = () => tls.connect({ host: secure.host, port: secure.port, ...tlsOptions });
    const node: TcpNode = { id: 'echo-tls', host: secure.host, port: secure.port, tls: tlsOptions };
    rows.push(...(await group(`TLS, ${CALLERS} callers`, node, connect, 'secureConnect')));
  } finally {
    await secure.stop();
  }
  return {
    title: 'TCP: request/response over pooled sockets vs a new socket per request',
    ratioLabel: 'vs new socket per request',
    rows,
    notes: [
      `One line echoed per request over 127.0.0.1; ${CALLERS} concurrent callers; median of ${timing.rounds} interleaved rounds of ${timing.roundMs} ms; p50/p99 over every 4th request.`,
      'The pool runs with its defaults (validation on acquire of sockets idle 500 ms or more, never writing; the unread-bytes check on release).',
      'Loopback makes connects nearly free; over a real network each saved connect is at least one round trip (TLS: two or more).',
    ],
  };
}
