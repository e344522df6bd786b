import { createSshPool } from '@pool/ssh';
import { startSshServer } from '@pool/testkit/ssh';
import { startOpenSshServer } from '@pool/testkit/sshd';
import { CommandKilled, WrongResult } from '../errors.js';
import { connectionBounds, SHARED_POOL_OPTIONS, sleep, type SoakTarget } from '../target.js';

const MAX_PER_NODE = 4;
const CALLERS = 20;
/** The servers' MaxSessions and the pool's default maxLeasesPerConnection. */
const SESSIONS = 10;

/** What the soak needs of an ssh2 server in process or an OpenSSH sshd. */
interface SshPeer {
  host: string;
  port: number;
  username: string;
  clientKey: { private: string };
  hostKey: { public: string };
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One SSH server with MaxSessions 10 (the pool's default channels per connection), 20 callers:
 * at least two connections' worth. Three commands in four are an instant `echo` whose output is
 * checked; one in four is `sleep 0.02`, so the server surely holds 10 sessions at once and the
 * pool can prove its MaxSessions (see @pool/ssh's README on learning MaxSessions).
 */
async function startSsh(name: 'ssh' | 'ssh-sshd', peer: SshPeer, serverName: string, extraFaultErrors: readonly string[]): Promise<SoakTarget> {
  const pool = createSshPool({
    ...SHARED_POOL_OPTIONS,
    nodes: [{ id: name, host: peer.host, port: peer.port, hostKeys: [peer.hostKey.public] }],
    username: peer.username,
    privateKey: peer.clientKey.private,
    knownHostsFile: false,
    maxPerNode: MAX_PER_NODE,
  });
  const restart = async (downMs: number) => {
    await peer.stop();
    if (downMs > 0) await sleep(downMs);
    await peer.start();
  };
  return {
    name,
    setup: `${serverName}, MaxSessions 10, maxPerNode ${MAX_PER_NODE}, ${CALLERS} callers`,
    pool,
    ...connectionBounds(1, MAX_PER_NODE, SESSIONS, CALLERS),
    op: async (sequence) => {
      const isSleep = sequence % 4 === 3;
      const expected = isSleep ? '' : `soak ${sequence}\n`;
      const result = await pool.exec(isSleep ? 'sleep 0.02' : `echo soak ${sequence}`);
      if (result.signal !== null) throw new CommandKilled(result.signal);
      if (result.code !== 0 || result.stdout !== expected) {
        throw new WrongResult(`exit ${String(result.code)}, no signal, stdout "${result.stdout.slice(0, 40)}"`);
      }
    },
    faults: [
      { at: 0.15, name: `stop ${serverName} (connections drop), start it 300 ms later`, run: () => restart(300) },
      { at: 0.4, name: `stop ${serverName} and start it at once`, run: () => restart(0) },
    ],
    // README "Errors": commands running when the connection dies fail CONNECTION_LOST; connects
    // while the server is down fail CREATE_FAILED, then NODE_UNAVAILABLE.
    expectedFaultErrors: ['CONNECTION_LOST', 'CREATE_FAILED', 'NODE_UNAVAILABLE', ...extraFaultErrors],
    secrets: [peer.clientKey.private],
    stop: () => peer.close(),
  };
}

export async function startEmbeddedSsh(): Promise<SoakTarget> {
  return startSsh('ssh', await startSshServer({ maxSessions: SESSIONS }), 'ssh2 Server in process', []);
}

export async function startOpenSsh(): Promise<SoakTarget> {
  // Stopping sshd kills its processes children first: a command's process can die before the
  // connection does, and sshd reports it as the README's result says (code null, signal SIGKILL).
  return startSsh('ssh-sshd', await startOpenSshServer({ maxSessions: SESSIONS }), 'OpenSSH sshd', ['exit signal SIGKILL']);
}
