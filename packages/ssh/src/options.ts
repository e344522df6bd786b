import { homedir } from 'node:os';
import { join } from 'node:path';
import { PoolError, type PoolNode, type PoolOptions, invalidOption, POOL_OPTION_NAMES, rejectUnknownOptions } from '@pool/core';
import ssh2 from 'ssh2';
import type { Client, ConnectConfig } from 'ssh2';
import { parseHostKeyPin, type HostKeyPin } from './host-keys.js';

/** How to log in. Set once on the pool options, or per node to override. */
export interface SshAuthOptions {
  /** Login name. Required, on the pool or on each node. */
  username?: string;
  /** Password authentication. */
  password?: string;
  /** Private key (PEM or OpenSSH format) for public key authentication. */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted `privateKey`. */
  passphrase?: string;
  /** Path of an ssh-agent socket (usually `process.env.SSH_AUTH_SOCK`) for agent authentication. */
  agent?: string;
}

/** One SSH server. */
export interface SshNode extends PoolNode, SshAuthOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /**
   * Host keys this server may present: `SHA256:...` fingerprints (as `ssh-keygen -lf` prints
   * them) or public key lines (`ssh-ed25519 AAAA...`). Checked before known_hosts.
   */
  hostKeys?: string[];
  /**
   * Channels one connection to this node may carry at once, when the server's MaxSessions is
   * below the pool's `maxLeasesPerConnection`. Default: `maxLeasesPerConnection`.
   */
  maxSessions?: number;
}

/** ssh2 connect settings the pool does not manage itself (algorithms, ident, timeouts...). */
export type SshConnectOptions = Omit<ConnectConfig, (typeof MANAGED_CONNECT_KEYS)[number]>;

const MANAGED_CONNECT_KEYS = [
  'host', 'port', 'username', 'password', 'privateKey', 'passphrase', 'agent', 'sock', 'hostVerifier',
  'hostHash', 'keepaliveInterval', 'keepaliveCountMax', 'readyTimeout', 'authHandler', 'debug',
] as const;

export interface SshPoolOptions
  extends Omit<PoolOptions<Client, SshNode>, 'factory' | 'nodes'>, SshAuthOptions {
  /** The servers. At least one. */
  nodes: SshNode[];
  /**
   * known_hosts file read at every connect. Default `~/.ssh/known_hosts` when a node has no
   * `hostKeys` and `knownHosts` is not set; `false` never reads a file.
   */
  knownHostsFile?: string | false;
  /** known_hosts content given inline (same format as the file). */
  knownHosts?: string;
  /**
   * Accept ANY host key without checking it. Anyone on the network path can then impersonate the
   * server and read passwords and commands. For throwaway test servers only. Default false.
   */
  acceptUnknownHostKeys_INSECURE?: boolean;
  /** Keep-alive request interval on idle connections; 0 = off. Default 15_000 ms. */
  keepaliveIntervalMs?: number;
  /** Unanswered keep-alives before the connection is dropped. Default 3. */
  keepaliveCountMax?: number;
  /** Extra ssh2 `connect()` settings (algorithms, ident, ...), minus the ones managed here. */
  connectOptions?: SshConnectOptions;
}

/** The transport settings the factory needs, defaults filled in. */
export interface ResolvedSshOptions {
  defaults: SshAuthOptions;
  knownHostsFile: string | false | undefined;
  knownHosts: string | undefined;
  acceptUnknownHostKeys: boolean;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectOptions: SshConnectOptions;
}

export const DEFAULT_KNOWN_HOSTS_FILE = join(homedir(), '.ssh', 'known_hosts');
export const DEFAULT_MAX_LEASES_PER_CONNECTION = 10;

const TRANSPORT_KEYS = [
  'nodes', 'username', 'password', 'privateKey', 'passphrase', 'agent', 'knownHostsFile', 'knownHosts',
  'acceptUnknownHostKeys_INSECURE', 'keepaliveIntervalMs', 'keepaliveCountMax', 'connectOptions',
] as const;

/** Core's option names a transport passes through; the factory is the transport's own. */
const CORE_OPTION_NAMES = POOL_OPTION_NAMES.filter((name) => name !== 'factory');

/** Every top-level name `createSshPool` accepts: a misspelled one is refused, naming the nearest. */
const KNOWN_OPTION_NAMES = new Set<string>([...TRANSPORT_KEYS, ...CORE_OPTION_NAMES]);

/** The ssh2 settings `connectOptions` passes through; the `Record` keeps it in step with ssh2's types. */
const CONNECT_OPTION_NAMES = new Set(Object.keys({
  forceIPv4: true, forceIPv6: true, localHostname: true, localUsername: true, tryKeyboard: true, strictVendor: true, agentForward: true,
  algorithms: true, localAddress: true, localPort: true, timeout: true, ident: true,
} satisfies Record<keyof SshConnectOptions, true>));

/** Core's message shape, with the value already rendered (secrets never are). */
function invalid(option: string, shown: string, rule: string): PoolError {
  return invalidOption(option, undefined, rule, shown);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** A secret's value never goes into a message: only what kind of thing was given. */
function showSecret(value: unknown): string {
  return value === undefined ? 'undefined' : `a ${typeof value} (value hidden)`;
}

/** Splits transport options from pool options and validates the transport half. */
export function resolveSshOptions(options: SshPoolOptions): {
  ssh: ResolvedSshOptions;
  pool: Omit<PoolOptions<Client, SshNode>, 'factory'>;
} {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', show(options), 'must be an object');
  }
  rejectUnknownOptions(options, KNOWN_OPTION_NAMES);
  const pool: Record<string, unknown> = { ...options };
  for (const key of TRANSPORT_KEYS) delete pool[key];
  const defaults = pickAuth(options);
  validateAuth('options', defaults, false);
  const ssh: ResolvedSshOptions = {
    defaults,
    knownHostsFile: options.knownHostsFile,
    knownHosts: options.knownHosts,
    acceptUnknownHostKeys: options.acceptUnknownHostKeys_INSECURE === true,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: options.keepaliveCountMax ?? 3,
    connectOptions: options.connectOptions ?? {},
  };
  if (ssh.knownHostsFile !== undefined && ssh.knownHostsFile !== false
      && (typeof ssh.knownHostsFile !== 'string' || ssh.knownHostsFile === '')) {
    throw invalid('knownHostsFile', show(ssh.knownHostsFile), 'must be a non-empty file path or false');
  }
  if (ssh.knownHosts !== undefined && typeof ssh.knownHosts !== 'string') {
    throw invalid('knownHosts', show(ssh.knownHosts), 'must be a string in known_hosts format');
  }
  const insecure = options.acceptUnknownHostKeys_INSECURE;
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw invalid('acceptUnknownHostKeys_INSECURE', show(insecure), 'must be a boolean');
  }
  if (!Number.isInteger(ssh.keepaliveIntervalMs) || ssh.keepaliveIntervalMs < 0) {
    throw invalid('keepaliveIntervalMs', show(ssh.keepaliveIntervalMs), 'must be an integer >= 0 (0 = off)');
  }
  if (!Number.isInteger(ssh.keepaliveCountMax) || ssh.keepaliveCountMax < 1) {
    throw invalid('keepaliveCountMax', show(ssh.keepaliveCountMax), 'must be an integer >= 1');
  }
  if (typeof ssh.connectOptions !== 'object' || ssh.connectOptions === null) {
    throw invalid('connectOptions', show(ssh.connectOptions), 'must be an object of ssh2 connect settings');
  }
  for (const key of MANAGED_CONNECT_KEYS) {
    if (key in ssh.connectOptions) {
      throw invalid(`connectOptions.${key}`, 'a value', 'must not be set: @pool/ssh manages it (use the pool or node option)');
    }
  }
  rejectUnknownOptions(ssh.connectOptions, CONNECT_OPTION_NAMES, 'connectOptions.');
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw invalid('nodes', show(options.nodes), 'must be a non-empty array of { id, host, port?, username?, ... }');
  }
  options.nodes.forEach((node, index) => validateNode(node, ssh, `nodes[${index}]`));
  pool['nodes'] = options.nodes;
  pool['name'] ??= options.nodes[0]?.host;
  pool['maxLeasesPerConnection'] = options.maxLeasesPerConnection ?? DEFAULT_MAX_LEASES_PER_CONNECTION;
  return { ssh, pool: pool as Omit<PoolOptions<Client, SshNode>, 'factory'> };
}

/** Checks one node against the pool's defaults; also used by `addNode`. */
export function validateNode(node: SshNode, ssh: ResolvedSshOptions, where: string): void {
  if (typeof node !== 'object' || node === null) throw invalid(where, show(node), 'must be an object');
  if (typeof node.id !== 'string' || node.id === '') throw invalid(`${where}.id`, show(node.id), 'must be a non-empty string');
  if (typeof node.host !== 'string' || node.host === '') {
    throw invalid(`${where}.host`, show(node.host), 'must be a non-empty host name or IP address');
  }
  if (node.port !== undefined && (!Number.isInteger(node.port) || node.port < 1 || node.port > 65_535)) {
    throw invalid(`${where}.port`, show(node.port), 'must be an integer from 1 to 65535');
  }
  if (node.maxSessions !== undefined && (!Number.isInteger(node.maxSessions) || node.maxSessions < 1)) {
    throw invalid(`${where}.maxSessions`, show(node.maxSessions), 'must be an integer >= 1');
  }
  if (node.hostKeys !== undefined) {
    if (!Array.isArray(node.hostKeys)) throw invalid(`${where}.hostKeys`, show(node.hostKeys), 'must be an array of strings');
    node.hostKeys.forEach((entry, index) => {
      if (typeof entry !== 'string' || parseHostKeyPin(entry) === undefined) {
        throw invalid(`${where}.hostKeys[${index}]`, show(entry),
          'must be a "SHA256:<43 base64 chars>" fingerprint or an "ssh-<type> <base64>" public key');
      }
    });
  }
  validateAuth(where, { ...ssh.defaults, ...pickAuth(node) }, true);
}

function pickAuth(source: SshAuthOptions): SshAuthOptions {
  const auth: SshAuthOptions = {};
  if (source.username !== undefined) auth.username = source.username;
  if (source.password !== undefined) auth.password = source.password;
  if (source.privateKey !== undefined) auth.privateKey = source.privateKey;
  if (source.passphrase !== undefined) auth.passphrase = source.passphrase;
  if (source.agent !== undefined) auth.agent = source.agent;
  return auth;
}

/** The auth a node logs in with: its own fields over the pool's. */
export function authFor(node: SshNode, ssh: ResolvedSshOptions): SshAuthOptions {
  return { ...ssh.defaults, ...pickAuth(node) };
}

/** `at` is `options` for the pool-level credentials, else the node's path (`nodes[0]`). */
function validateAuth(at: string, auth: SshAuthOptions, complete: boolean): void {
  const name = (option: string) => (at === 'options' ? option : `${at}.${option}`);
  if (auth.username !== undefined && (typeof auth.username !== 'string' || auth.username === '')) {
    throw invalid(name('username'), show(auth.username), 'must be a non-empty string');
  }
  if (auth.password !== undefined && typeof auth.password !== 'string') {
    throw invalid(name('password'), showSecret(auth.password), 'must be a string');
  }
  if (auth.passphrase !== undefined && typeof auth.passphrase !== 'string') {
    throw invalid(name('passphrase'), showSecret(auth.passphrase), 'must be a string');
  }
  if (auth.agent !== undefined && (typeof auth.agent !== 'string' || auth.agent === '')) {
    throw invalid(name('agent'), show(auth.agent), 'must be the path of an ssh-agent socket (e.g. process.env.SSH_AUTH_SOCK)');
  }
  if (auth.privateKey !== undefined) {
    if (typeof auth.privateKey !== 'string' && !Buffer.isBuffer(auth.privateKey)) {
      throw invalid(name('privateKey'), showSecret(auth.privateKey), 'must be a string or Buffer holding a PEM or OpenSSH private key');
    }
    const parsed = ssh2.utils.parseKey(auth.privateKey, auth.passphrase);
    if (parsed instanceof Error) {
      // parseKey's messages describe the problem ("bad passphrase?"), never the key itself.
      throw invalid(name('privateKey'), showSecret(auth.privateKey),
        `must be a private key ssh2 can read with the given passphrase (${parsed.message})`);
    }
  }
  if (!complete) return;
  if (auth.username === undefined) {
    throw invalid(name('username'), 'undefined', 'a login name is required (on the node or on the pool options)');
  }
  if (auth.password === undefined && auth.privateKey === undefined && auth.agent === undefined) {
    throw invalid(`${at}.password/privateKey/agent`, 'none of them', 'one is required (on the node or on the pool options)');
  }
}

/** Every secret a node's connections may involve, for scrubbing driver messages. */
export function secretsOf(auth: SshAuthOptions): string[] {
  const secrets: string[] = [];
  if (auth.password !== undefined) secrets.push(auth.password);
  if (auth.passphrase !== undefined) secrets.push(auth.passphrase);
  if (auth.privateKey !== undefined) {
    const text = auth.privateKey.toString();
    secrets.push(text);
    // A fragment of the key is as bad as the whole of it.
    for (const line of text.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) secrets.push(line.trim());
  }
  return secrets;
}

/** Accepted host key pins of a node (validated already). */
export function pinsOf(node: SshNode): HostKeyPin[] {
  return (node.hostKeys ?? []).map((entry) => parseHostKeyPin(entry)).filter((pin): pin is HostKeyPin => pin !== undefined);
}
