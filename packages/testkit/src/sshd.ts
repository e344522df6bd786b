import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateSshKeyPair, knownHostsLine, type SshKeyPair } from './ssh.js';
import { freePort } from './processes.js';

/** Where Debian/Ubuntu's `openssh-server` installs the daemon. */
export const SSHD_PATH = '/usr/sbin/sshd';

export function hasOpenSsh(): boolean {
  return fs.existsSync(SSHD_PATH);
}

export interface OpenSshServerOptions {
  /** sshd's MaxSessions. Default 10. */
  maxSessions?: number;
  /** How long to wait for "Server listening". Default 20_000 ms. */
  startTimeoutMs?: number;
}

export interface OpenSshServer {
  readonly host: string;
  /** Fixed for the server's life, across `stop()`/`start()`. */
  readonly port: number;
  /** The user sshd runs commands as: the user running this process. */
  readonly username: string;
  readonly hostKey: SshKeyPair;
  /** Authorised in the server's own authorized_keys file. */
  readonly clientKey: SshKeyPair;
  readonly knownHostsLine: string;
  /** A scratch directory the user may read and write (absolute paths for SFTP). */
  readonly dataDir: string;
  /** Kills sshd and every session it forked (a crash: connections drop). */
  stop(): Promise<void>;
  /** Starts sshd again on the same port. */
  start(): Promise<void>;
  /** `stop()` and removes the temp directory. */
  close(): Promise<void>;
}

/**
 * Starts `/usr/sbin/sshd -D -e` with its own config, host key and authorized_keys in a temp dir,
 * listening on 127.0.0.1 and a free port. Throws (never skips) when sshd is missing or does not
 * come up within `startTimeoutMs`, with sshd's own log lines in the message.
 */
export async function startOpenSshServer(options: OpenSshServerOptions = {}): Promise<OpenSshServer> {
  if (!hasOpenSsh()) {
    throw new Error(`${SSHD_PATH} not found: install openssh-server (apt-get install -y openssh-server); .ci/run does`);
  }
  const host = '127.0.0.1';
  const username = userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'pool-sshd-'));
  const dataDir = join(dir, 'data');
  fs.mkdirSync(dataDir);
  fs.mkdirSync(join(dir, 'home'));
  const hostKey = generateSshKeyPair({ comment: 'pool-sshd-host' });
  const clientKey = generateSshKeyPair({ comment: 'pool-sshd-client' });
  writeFileSync(join(dir, 'host_ed25519_key'), hostKey.private, { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys'), `${clientKey.public}\n`, { mode: 0o600 });
  // sshd refuses to start without its privilege separation directory.
  try { fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); } catch { /* not root: sshd will say */ }
  const config = join(dir, 'sshd_config');
  let port = 0;
  let daemon: ChildProcess | undefined;

  const writeConfig = () => writeFileSync(config, [
    `Port ${port}`, `ListenAddress ${host}`, `HostKey ${join(dir, 'host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no', 'StrictModes no', 'PermitRootLogin yes', 'PubkeyAuthentication yes',
    'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
    `MaxSessions ${options.maxSessions ?? 10}`, 'MaxStartups 200:30:400', 'Subsystem sftp internal-sftp',
    // Commands run through the user's shell; a HOME of our own keeps its rc files (which can be
    // slow: pyenv, nvm...) out of every exec.
    `SetEnv HOME=${join(dir, 'home')}`, 'PrintMotd no', 'PrintLastLog no', 'LogLevel INFO', '',
  ].join('\n'));

  const launch = () => new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`sshd did not start on ${host}:${port}: ${why}\n${log.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`no "Server listening" within ${options.startTimeoutMs ?? 20_000} ms`),
      options.startTimeoutMs ?? 20_000);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code) => fail(`exited with ${code}`));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      if (process.env['POOL_SSHD_LOG'] !== undefined) fs.appendFileSync(process.env['POOL_SSHD_LOG'], text);
      for (const line of text.split('\n')) if (line !== '') log.push(line);
      if (log.length > 50) log.splice(0, log.length - 50);
      if (text.includes('Server listening on')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.on('error', () => {});
        resolve(child);
      }
    });
  });

  const start = async () => {
    if (daemon !== undefined) return;
    for (let attempt = 1; ; attempt++) {
      if (port === 0 || attempt > 1) port = await freePort(host);
      writeConfig();
      try {
        daemon = await launch();
        return;
      } catch (error) {
        // Another process may grab the port between freePort and sshd's bind; try a new one.
        if (attempt >= 3 || !String(error).includes('Address already in use')) throw error;
      }
    }
  };
  // If the test process exits without close() (a timed-out test), sshd must not outlive it.
  const killOnExit = () => {
    if (daemon?.pid === undefined) return;
    for (const pid of descendants(daemon.pid)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    daemon.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const startAgain = async () => {
    if (daemon !== undefined) return;
    writeConfig();
    daemon = await launch();
  };
  const stop = async () => {
    const child = daemon;
    if (child === undefined || child.pid === undefined) return;
    daemon = undefined;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    // The per-connection sshd processes outlive the listener; kill them by pid, children first.
    for (const pid of [...descendants(child.pid)].reverse()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    child.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    host,
    get port() { return port; },
    username,
    hostKey,
    clientKey,
    get knownHostsLine() { return knownHostsLine(host, port, hostKey.public); },
    dataDir,
    stop,
    start: startAgain,
    async close() {
      process.off('exit', killOnExit);
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


/** Every process below `root`, parents before children, read from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the ")" that closes the command name: state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch { /* exited meanwhile */ }
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
