import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import { serveSftp } from './sftp.js';
import { generateSshKeyPair, knownHostsLine, type SshKeyPair } from './ssh-keys.js';

// Keys stay importable from '@pool/testkit/ssh', where the ssh tests and the demo take them.
export { generateSshKeyPair, knownHostsLine, sshFingerprint, type SshKeyPair } from './ssh-keys.js';

const { Server: SshServer, utils } = ssh2;

export interface SshTestServerOptions {
  /** Default `pool`. */
  username?: string;
  /** Default: random. */
  password?: string;
  /** Extra public key lines accepted for `username` besides the generated `clientKey`. */
  authorizedKeys?: string[];
  /** Session channels allowed per connection, like OpenSSH's MaxSessions. Default 10. */
  maxSessions?: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

export interface SshTestServer {
  readonly host: string;
  /** Fixed for the server's life, across `stop()`/`start()`. */
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly hostKey: SshKeyPair;
  /** A client key pair authorised for `username`. */
  readonly clientKey: SshKeyPair;
  /** Directory backing the SFTP subsystem; SFTP paths are relative to it. */
  readonly sftpRoot: string;
  /** The `known_hosts` line of this server. */
  readonly knownHostsLine: string;
  /** Open TCP connections right now. */
  readonly connections: number;
  /** Connections accepted (authenticated or not) since the server was made. */
  readonly connectionsAccepted: number;
  /** Commands executed since the server was made. */
  readonly execs: number;
  /** Most session channels ever open at once on one connection. */
  readonly maxConcurrentSessionsSeen: number;

  /**
   * A hung peer: stops reading from every open connection, so nothing is answered, and new TCP
   * connections are accepted but never greeted.
   */
  freeze(): void;
  /** Resumes the frozen connections; connections accepted while frozen are closed. */
  thaw(): void;
  /** Closes the listener and every connection abruptly. The port stays reserved for `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  /** `stop()` and removes the SFTP directory. */
  close(): Promise<void>;
}

/**
 * An ssh2 `Server` in this process, on 127.0.0.1 and a free port. It accepts `username` with
 * `password` or `clientKey`, runs a few commands itself, no shell: `echo ARGS`, `echo-stderr ARGS`,
 * `sleep SECONDS`, `cat` (echoes stdin), `exit CODE`, `bytes N` (N binary bytes 0..255 repeating),
 * `echo-sleep SECONDS WORDS` (WORDS to stdout, `err WORDS` to stderr, exit after SECONDS); anything
 * else exits 127. It limits session channels per connection like sshd's MaxSessions, and serves
 * SFTP from a temp dir.
 */
export async function startSshServer(options: SshTestServerOptions = {}): Promise<SshTestServer> {
  const host = options.host ?? '127.0.0.1';
  const username = options.username ?? 'pool';
  const password = options.password ?? randomBytes(12).toString('hex');
  const maxSessions = options.maxSessions ?? 10;
  const hostKey = generateSshKeyPair({ comment: 'pool-test-host' });
  const clientKey = generateSshKeyPair({ comment: 'pool-test-client' });
  const allowedKeys = [clientKey.public, ...(options.authorizedKeys ?? [])].map((line) => utils.parseKey(line));
  const sftpRoot = mkdtempSync(join(tmpdir(), 'pool-sftp-'));
  const sockets = new Set<Socket>();
  const counters = { accepted: 0, execs: 0, maxSessions: 0 };

  let frozen = false;
  const held = new Set<Socket>();

  const ssh = new SshServer({ hostKeys: [hostKey.private] }, (connection: Connection) => {
    connection.on('error', () => {});
    connection.on('authentication', (ctx) => {
      if (ctx.username !== username) return ctx.reject();
      if (ctx.method === 'password') return safeEqual(ctx.password, password) ? ctx.accept() : ctx.reject();
      if (ctx.method === 'publickey') {
        const key = allowedKeys.find((candidate) =>
          !(candidate instanceof Error) && candidate.type === ctx.key.algo
          && candidate.getPublicSSH().equals(ctx.key.data));
        if (key === undefined || key instanceof Error) return ctx.reject();
        if (ctx.signature === undefined || ctx.blob === undefined) return ctx.accept();
        return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
      }
      return ctx.reject(['password', 'publickey']);
    });
    connection.on('session', (accept, reject) => {
      // Count the way sshd does, synchronously with the CHANNEL_CLOSE messages already parsed: ssh2
      // has reserved this channel in its channel table (pinned ssh2 1.17 internals, test-only).
      const openChannels = (connection as unknown as { _chanMgr: { _count: number } })._chanMgr._count;
      if (openChannels > maxSessions) return reject();
      counters.maxSessions = Math.max(counters.maxSessions, openChannels);
      const session = accept();
      session.on('exec', (acceptExec, _rejectExec, info) => {
        counters.execs++;
        const channel = acceptExec();
        runCommand(channel, info.command);
      });
      session.on('sftp', (acceptSftp) => {
        const sftp = acceptSftp();
        serveSftp(sftp, sftpRoot);
      });
    });
  });
  ssh.on('error', () => {});

  const listener: NetServer = createServer((socket) => {
    counters.accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    // A frozen server accepts TCP but never speaks SSH: a hung peer.
    if (frozen) held.add(socket);
    else ssh.injectSocket(socket);
  });
  let port = 0;
  const listen = () => new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      const address = listener.address();
      if (address !== null && typeof address === 'object') port = address.port;
      resolve();
    });
  });
  await listen();
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    if (listener.listening) await new Promise<void>((resolve) => listener.close(() => resolve()));
  };

  return {
    host,
    get port() { return port; },
    username,
    password,
    hostKey,
    clientKey,
    sftpRoot,
    get knownHostsLine() { return knownHostsLine(host, port, hostKey.public); },
    get connections() { return sockets.size; },
    get connectionsAccepted() { return counters.accepted; },
    get execs() { return counters.execs; },
    get maxConcurrentSessionsSeen() { return counters.maxSessions; },
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) if (!held.has(socket)) socket.resume();
      for (const socket of held) socket.destroy();
      held.clear();
    },
    stop,
    async start() {
      if (!listener.listening) await listen();
    },
    async close() {
      await stop();
      rmSync(sftpRoot, { recursive: true, force: true });
    },
  };
}

function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function runCommand(channel: ServerChannel, command: string): void {
  const [name, ...args] = command.trim().split(/\s+/);
  // A server channel only closes once its input has ended, so commands that ignore stdin drain it.
  if (name !== 'cat') channel.resume();
  const finish = (code: number) => {
    if (channel.writable) {
      channel.exit(code);
      channel.end();
    }
  };
  switch (name) {
    case 'echo':
      channel.write(`${args.join(' ')}\n`);
      return finish(0);
    case 'echo-stderr':
      channel.stderr.write(`${args.join(' ')}\n`);
      return finish(0);
    case 'exit':
      return finish(Number(args[0] ?? 0));
    case 'bytes': {
      // N bytes counting 0..255 over and over: binary output, invalid as UTF-8.
      const count = Number(args[0] ?? 256);
      channel.write(Buffer.from(Array.from({ length: count }, (_, i) => i % 256)));
      return finish(0);
    }
    case 'echo-sleep': {
      // WORDS to stdout and to stderr at once, then exits after SECONDS: output before a timeout.
      const [seconds, ...words] = args;
      channel.write(`${words.join(' ')}\n`);
      channel.stderr.write(`err ${words.join(' ')}\n`);
      const timer = setTimeout(() => finish(0), Number(seconds ?? 0) * 1000);
      channel.once('close', () => clearTimeout(timer));
      return;
    }
    case 'cat':
      channel.on('data', (chunk: Buffer) => channel.write(chunk));
      channel.on('end', () => finish(0));
      return;
    case 'sleep': {
      // ssh2's Server does not pass "signal" requests on once a command runs; closing ends it.
      const timer = setTimeout(() => finish(0), Number(args[0] ?? 0) * 1000);
      channel.once('close', () => clearTimeout(timer));
      return;
    }
    default:
      channel.stderr.write(`${name ?? ''}: command not found\n`);
      return finish(127);
  }
}

