import ssh2 from 'ssh2';
import { createSshPool, type SshNode, type SshPool } from '@pool/ssh';
import { startSshServer } from '@pool/testkit/ssh';
import { hasOpenSsh, startOpenSshServer } from '@pool/testkit/sshd';
import { envNumber, median, medianRow, runCallers, withRatios, type BenchRow, type BenchTable, type Op } from '../harness.js';

const COMMANDS = 200;
const CONCURRENCY = 20;
const NEW_PER_COMMAND = 'new connection per command';

const ROUNDS = envNumber('BENCH_ROUNDS', 3);

/** One SSH server, however it was started, and how to log in to it. */
interface Peer {
  name: string;
  node: SshNode;
  auth: { username: string; privateKey: string };
}

/** What code without a pool does: connect, authenticate, run one command, disconnect. */
function execOnNewConnection(peer: Peer, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, (error, channel) => {
        if (error) {
          client.end();
          return reject(error);
        }
        channel.resume();
        channel.stderr.resume();
        channel.on('close', (code: number | null) => {
          client.end();
          if (code === 0) resolve();
          else reject(new Error(`exit ${String(code)}`));
        });
        channel.end();
      });
    });
    client.connect({
      host: peer.node.host,
      port: peer.node.port ?? 22,
      username: peer.auth.username,
      privateKey: peer.auth.privateKey,
      hostVerifier: () => true, // the bench's own throwaway server; the pool side verifies
      readyTimeout: 20_000,
    });
  });
}

function makePool(peer: Peer): SshPool {
  return createSshPool({ nodes: [peer.node], ...peer.auth, knownHostsFile: false });
}

interface Measured {
  opsPerSec: number[];
  p50: number[];
  p99: number[];
  created: number[];
}

async function measure(op: Op, into: Measured): Promise<void> {
  const result = await runCallers(op, { callers: CONCURRENCY, ops: COMMANDS, sampleEvery: 1 });
  into.opsPerSec.push(result.opsPerSec);
  into.p50.push(result.latency?.p50 ?? NaN);
  into.p99.push(result.latency?.p99 ?? NaN);
}

function row(group: string, name: string, measured: Measured, note: string): BenchRow {
  return { group, ...medianRow(name, measured), note };
}

/**
 * 200 `echo` commands, 20 at a time, three ways, rounds interleaved: a new SSH connection per
 * command; a warm @pool/ssh pool (channels multiplexed, 10 per connection); and a cold pool
 * created for the batch and closed after it (connection setup included).
 */
async function group(peer: Peer): Promise<BenchRow[]> {
  const fresh: Measured = { opsPerSec: [], p50: [], p99: [], created: [] };
  const warm: Measured = { opsPerSec: [], p50: [], p99: [], created: [] };
  const cold: Measured = { opsPerSec: [], p50: [], p99: [], created: [] };
  const pool = makePool(peer);
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => pool.exec(`echo warm ${i}`)));
    for (let round = 0; round < ROUNDS; round++) {
      await measure(() => execOnNewConnection(peer, 'echo hello'), fresh);
      await measure(() => pool.exec('echo hello'), warm);
      const coldPool = makePool(peer);
      try {
        await measure(() => coldPool.exec('echo hello'), cold);
        cold.created.push(coldPool.stats().created);
      } finally {
        await coldPool.close();
      }
    }
    const stats = pool.stats();
    const group = `${peer.name}, ${COMMANDS} commands, ${CONCURRENCY} at a time`;
    const rows = [
      row(group, NEW_PER_COMMAND, fresh, `${COMMANDS} handshakes per round`),
      row(group, '@pool/ssh pool.exec, warm', warm, `connections ${stats.created} for ${stats.acquired} commands`),
      row(group, '@pool/ssh pool.exec, cold pool', cold, `connections per round ${median(cold.created)}, setup included`),
    ];
    return withRatios(rows, NEW_PER_COMMAND);
  } finally {
    await pool.close();
  }
}

/** What {@link groupOn} needs of an embedded ssh2 server or an OpenSSH sshd. */
interface SshServer {
  host: string;
  port: number;
  username: string;
  clientKey: { private: string };
  close(): Promise<void>;
}

/** The rows of {@link group} on `server`, closed afterwards; `hostKey` is how the pool pins it. */
async function groupOn(name: string, id: string, server: SshServer, hostKey: string): Promise<BenchRow[]> {
  try {
    return await group({
      name,
      node: { id, host: server.host, port: server.port, hostKeys: [hostKey] },
      auth: { username: server.username, privateKey: server.clientKey.private },
    });
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchTable> {
  const rows: BenchRow[] = [];
  const notes = [
    'ops/s = commands per second over a fixed batch (median of rounds); p50/p99 = latency of one command, ms.',
    'ssh2 runs without its native crypto binding (pure JS), client and in-process server on the same cores.',
  ];
  const embedded = await startSshServer();
  rows.push(...(await groupOn('ssh2 Server in process', 'embedded', embedded, embedded.hostKey.fingerprint)));
  if (hasOpenSsh()) {
    const sshd = await startOpenSshServer({ maxSessions: 10 });
    rows.push(...(await groupOn('OpenSSH sshd', 'sshd', sshd, sshd.hostKey.public)));
  } else {
    notes.push('OpenSSH sshd rows missing: /usr/sbin/sshd is not installed (apt-get install openssh-server).');
  }
  return {
    title: `SSH: ${COMMANDS} echo commands at concurrency ${CONCURRENCY}, pooled vs a new connection per command`,
    ratioLabel: 'vs new connection per command',
    rows,
    notes,
  };
}
