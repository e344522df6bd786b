import { createConnection, type Socket } from 'node:net';
import type { ConnectionFactory, CreateContext } from '@pool/core';
import ssh2 from 'ssh2';
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { describeDriverError, isSshError, scrubbed, SshError } from './errors.js';
import {
  checkHostKey, knownHostsName, parseKnownHosts, preferredHostKeyAlgorithms, readKnownHostsFile,
  type HostKeyPolicy, type KnownHostEntry,
} from './host-keys.js';
import {
  authFor, DEFAULT_KNOWN_HOSTS_FILE, pinsOf, secretsOf, type ResolvedSshOptions, type SshNode,
} from './options.js';
import { SessionCount } from './sessions.js';
import { HostKeyRefusals } from './host-key-refusals.js';

/** What the pool tracks about one ssh2 `Client`, beside the client itself. */
export interface ConnectionState {
  readonly node: SshNode;
  readonly socket: Socket;
  /** `node "id" (host:port)`, for messages. */
  readonly where: string;
  readonly secrets: readonly string[];
  /** Last time any byte came from the server: keep-alive replies keep it fresh on idle connections. */
  lastHeardAt: number;
  isClosed: boolean;
  /** Still connected but not to be reused: the server did not confirm a channel open or close in time. */
  isRetired: boolean;
  /** Shared by the node's connections. */
  readonly limits: SessionLimits;
  /** The channels this package opened on the connection, as the server surely holds them. */
  readonly sessions: SessionCount;
}

/** What the node's connections learned of the server's MaxSessions. */
export interface SessionLimits {
  /** Lowered when the server refuses a channel while others are open, so no connection asks for more. */
  learnedMaxSessions: number | undefined;
  /**
   * The most channels the server surely held at once on one connection ({@link SessionCount}):
   * MaxSessions is at least this, so a refusal with fewer held is the server still counting
   * channels just closed, not its limit.
   */
  provenSessions: number;
}

const states = new WeakMap<Client, ConnectionState>();

export function stateOf(client: Client): ConnectionState | undefined {
  return states.get(client);
}

/** True while the connection is usable: not closed by either side and keep-alives answered. */
export function isAlive(client: Client, keepaliveIntervalMs: number, now = Date.now()): boolean {
  const state = states.get(client);
  if (state === undefined || state.isClosed || state.isRetired || state.socket.destroyed || !state.socket.writable) return false;
  // ssh2 pings an idle connection every interval, so two silent intervals mean a ping went unanswered.
  return keepaliveIntervalMs === 0 || now - state.lastHeardAt <= 2 * keepaliveIntervalMs;
}

export function createSshFactory(ssh: ResolvedSshOptions): ConnectionFactory<Client, SshNode> {
  const inlineKnownHosts = ssh.knownHosts === undefined ? [] : parseKnownHosts(ssh.knownHosts);
  const limitsByNode = new Map<string, SessionLimits>();
  const limitsOf = (node: SshNode) => {
    let limits = limitsByNode.get(node.id);
    if (limits === undefined) limitsByNode.set(node.id, limits = { learnedMaxSessions: undefined, provenSessions: 0 });
    return limits;
  };
  const refusals = new HostKeyRefusals();
  return {
    create: (node, ctx) => connect(node, ctx, ssh, inlineKnownHosts, limitsOf(node), refusals),
    validate: (client) => isAlive(client, ssh.keepaliveIntervalMs),
    destroy: (client) => disconnect(client),
    isBroken: (_error, client) => !isAlive(client, 0),
    maxLeases: (client, node) => states.get(client)?.limits.learnedMaxSessions ?? node.maxSessions ?? Number.MAX_SAFE_INTEGER,
    // A refused host key stays refused (and no credential was sent): fail at once, no backoff.
    isRetryable: (error) => !isSshError(error, 'HOST_KEY_UNKNOWN') && !isSshError(error, 'HOST_KEY_MISMATCH') && !isSshError(error, 'HOST_KEY_REVOKED'),
  };
}

async function hostKeyPolicy(node: SshNode, ssh: ResolvedSshOptions, inline: KnownHostEntry[], where: string): Promise<HostKeyPolicy> {
  const pins = pinsOf(node);
  const policy: HostKeyPolicy = { pins, known: [...inline], sources: [] };
  if (pins.length > 0) policy.sources.push(`hostKeys of node "${node.id}"`);
  if (ssh.knownHosts !== undefined) policy.sources.push('the knownHosts option');
  let file = ssh.knownHostsFile;
  if (file === undefined && pins.length === 0 && ssh.knownHosts === undefined) file = DEFAULT_KNOWN_HOSTS_FILE;
  if (typeof file === 'string') {
    try {
      policy.known.push(...await readKnownHostsFile(file));
    } catch (error) {
      throw new SshError('CONNECT_FAILED', node.id, `cannot read known_hosts file ${file} to verify ${where}: ${describeDriverError(error, [])}`, { cause: error });
    }
    policy.sources.push(file);
  }
  return policy;
}

function hostKeyError(node: SshNode, where: string, name: string, policy: HostKeyPolicy,
  verdict: { reason: 'unknown' | 'mismatch' | 'revoked'; presented: string }): SshError {
  const looked = policy.sources.length > 0 ? policy.sources.join(', ') : 'nowhere';
  switch (verdict.reason) {
    case 'revoked':
      return new SshError('HOST_KEY_REVOKED', node.id,
        `host key of ${where} is REVOKED: the server presented ${verdict.presented}, marked @revoked for ${name} in known_hosts; not connecting`);
    case 'mismatch':
      return new SshError('HOST_KEY_MISMATCH', node.id,
        `HOST KEY MISMATCH for ${where}: the server presented ${verdict.presented}, which is none of the keys known for ${name} ` +
        `(looked in: ${looked}). Its key changed or someone is intercepting the connection; not connecting. ` +
        'If the change is expected, update hostKeys or known_hosts');
    case 'unknown':
      return new SshError('HOST_KEY_UNKNOWN', node.id,
        `host key of ${where} is unknown: the server presented ${verdict.presented} and no key is known for ${name} ` +
        `(looked in: ${looked}). Check the fingerprint out of band, then add it to the node's hostKeys or to known_hosts; not connecting`);
  }
}

function connect(node: SshNode, ctx: CreateContext, ssh: ResolvedSshOptions, inline: KnownHostEntry[],
  limits: ConnectionState['limits'], refusals: HostKeyRefusals): Promise<Client> {
  const port = node.port ?? 22;
  const where = `node "${node.id}" (${node.host}:${port})`;
  const auth = authFor(node, ssh);
  const secrets = secretsOf(auth);
  const name = knownHostsName(node.host, port);
  const aborted = () => new SshError('CONNECT_FAILED', node.id,
    `connecting to ${where} was aborted before the SSH handshake finished (${describeDriverError(ctx.signal.reason, secrets)})`,
    { cause: ctx.signal.reason });

  const policyReady = ssh.acceptUnknownHostKeys ? Promise.resolve(undefined) : hostKeyPolicy(node, ssh, inline, where);
  return policyReady.then((policy) => new Promise<Client>((resolve, reject) => {
    if (ctx.signal.aborted) return reject(aborted());
    // A retry of a create whose host key was refused: same key, same known keys, same refusal.
    const refused = policy === undefined ? undefined : refusals.recent(node.id, policy);
    if (refused !== undefined) return reject(refused);
    const client = new ssh2.Client();
    const socket = createConnection({ host: node.host, port });
    socket.setNoDelay(true);
    const state: ConnectionState = {
      node, socket, where, secrets, lastHeardAt: Date.now(), isClosed: false, isRetired: false, limits, sessions: new SessionCount(),
    };
    let isReady = false;
    let rejected: SshError | undefined;
    let hostKeyFailure: SshError | undefined;
    let lastSoftError: unknown;

    const fail = (error: SshError) => {
      if (isReady || rejected !== undefined) return;
      rejected = error;
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(aborted());
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const methods = [auth.password !== undefined && 'password', auth.privateKey !== undefined && 'publickey', auth.agent !== undefined && 'agent']
      .filter(Boolean).join(', ');
    client.on('error', (error: Error & { level?: string }) => {
      if (isReady) {
        state.isClosed = true;
        ctx.invalidate(new SshError('CONNECTION_LOST', node.id, `connection to ${where} failed: ${describeDriverError(error, secrets)}`, { cause: scrubbed(error, secrets) }));
        return;
      }
      if (hostKeyFailure !== undefined) return fail(hostKeyFailure);
      const cause = scrubbed(error, secrets);
      // ssh2 reports a failed agent or key signature, then moves on to the next method.
      if (error.level === 'agent' || (error.level === 'client-authentication' && !error.message.startsWith('All configured'))) {
        lastSoftError = cause;
        return;
      }
      if (error.level === 'client-authentication') {
        const detail = lastSoftError === undefined ? '' : ` (${describeDriverError(lastSoftError, secrets)})`;
        return fail(new SshError('AUTH_FAILED', node.id,
          `authentication as "${auth.username ?? ''}" on ${where} failed: the server accepted none of: ${methods}${detail}`, { cause }));
      }
      const stage = error.level === 'client-socket' ? 'cannot reach' : 'SSH handshake failed with';
      fail(new SshError('CONNECT_FAILED', node.id, `${stage} ${where}: ${describeDriverError(error, secrets)}`, { cause }));
    });
    const onGone = () => {
      if (!isReady) {
        fail(new SshError('CONNECT_FAILED', node.id, `${where} closed the connection during the SSH handshake`));
        return;
      }
      if (state.isClosed) return;
      state.isClosed = true;
      ctx.invalidate(new SshError('CONNECTION_LOST', node.id, `${where} closed the connection`));
    };
    client.on('end', onGone);
    client.on('close', onGone);
    client.once('ready', () => {
      if (rejected !== undefined) return;
      isReady = true;
      ctx.signal.removeEventListener('abort', onAbort);
      state.lastHeardAt = Date.now();
      socket.on('data', () => { state.lastHeardAt = Date.now(); });
      states.set(client, state);
      resolve(client);
    });

    const config: ConnectConfig = {
      ...ssh.connectOptions,
      sock: socket,
      username: auth.username ?? '',
      readyTimeout: 0, // the pool's createTimeoutMs aborts ctx.signal instead
      keepaliveInterval: ssh.keepaliveIntervalMs,
      keepaliveCountMax: ssh.keepaliveCountMax,
      hostVerifier: (key: Buffer) => {
        if (policy === undefined) return true;
        const verdict = checkHostKey(policy, name, key);
        if (verdict.accepted) {
          refusals.forget(node.id);
          return true;
        }
        hostKeyFailure = hostKeyError(node, where, name, policy, verdict);
        refusals.remember(node.id, policy, hostKeyFailure);
        return false;
      },
    };
    if (auth.password !== undefined) config.password = auth.password;
    if (auth.privateKey !== undefined) config.privateKey = auth.privateKey;
    if (auth.passphrase !== undefined) config.passphrase = auth.passphrase;
    if (auth.agent !== undefined) config.agent = auth.agent;
    const preferred = (policy === undefined ? [] : preferredHostKeyAlgorithms(policy, name)) as ServerHostKeyAlgorithm[];
    if (preferred.length > 0 && ssh.connectOptions.algorithms?.serverHostKey === undefined) {
      // Key order matters to ssh2: remove the known types, then put them first.
      config.algorithms = { ...ssh.connectOptions.algorithms, serverHostKey: { append: [], remove: preferred, prepend: preferred } };
    }
    try {
      client.connect(config);
    } catch (error) {
      fail(new SshError('CONNECT_FAILED', node.id, `cannot start connecting to ${where}: ${describeDriverError(error, secrets)}`,
        { cause: scrubbed(error, secrets) }));
    }
  }));
}

/** Polite disconnect, then the socket is destroyed if the server does not close within a second. */
function disconnect(client: Client): Promise<void> {
  const state = states.get(client);
  if (state === undefined) {
    client.destroy();
    return Promise.resolve();
  }
  state.isClosed = true;
  if (state.socket.destroyed) return Promise.resolve();
  if (!state.socket.writable) {
    state.socket.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      state.socket.destroy();
      resolve();
    }, 1_000).unref();
    state.socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
