import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A host key the client may be shown: its algorithm name and its raw SSH wire-format blob. */
export interface HostKey {
  type: string;
  blob: Buffer;
}

/** `SHA256:<base64, no padding>`, the format `ssh-keygen -l` and OpenSSH's prompts print. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside a wire-format key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length < 64 && blob.length >= 4 + length ? blob.toString('latin1', 4, 4 + length) : 'unknown';
}

/** Accepted spellings of one `hostKeys` entry: a SHA256 fingerprint or an `ssh-xxx AAAA...` public key. */
export type HostKeyPin = { fingerprint: string } | { key: HostKey };

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;
const PUBLIC_KEY = /^([a-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,2})(\s.*)?$/;

/** Parses one `hostKeys` entry; undefined when it is neither form. */
export function parseHostKeyPin(entry: string): HostKeyPin | undefined {
  const text = entry.trim();
  const fingerprint = FINGERPRINT.exec(text);
  if (fingerprint !== null) return { fingerprint: `SHA256:${fingerprint[1]}` };
  const publicKey = PUBLIC_KEY.exec(text);
  if (publicKey === null) return undefined;
  const blob = Buffer.from(publicKey[2] ?? '', 'base64');
  if (keyTypeOf(blob) !== publicKey[1]) return undefined;
  return { key: { type: publicKey[1] ?? '', blob } };
}

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  marker: 'revoked' | undefined;
  /** Comma-separated patterns, or one `|1|salt|hash` hashed name. */
  hosts: string;
  key: HostKey;
}

/**
 * Parses OpenSSH known_hosts text: `hosts keytype base64 [comment]` lines, `[host]:port` names,
 * `*`/`?` wildcards, `!` negation, hashed `|1|salt|hash` names and the `@revoked` marker.
 * `@cert-authority` lines are skipped (certificates are not supported), as are malformed lines.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      if (fields[0] !== '@revoked') continue;
      marker = 'revoked';
      fields.shift();
    }
    const [hosts, type, base64] = fields;
    if (hosts === undefined || type === undefined || base64 === undefined) continue;
    const blob = Buffer.from(base64, 'base64');
    if (keyTypeOf(blob) !== type) continue;
    entries.push({ marker, hosts, key: { type, blob } });
  }
  return entries;
}

/** The name known_hosts files use for host:port: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts `hosts` field names `name` (see {@link knownHostsName}). */
export function matchesHost(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcardMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name;
  const source = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** Everything known about the keys one host may present, gathered before connecting. */
export interface HostKeyPolicy {
  pins: HostKeyPin[];
  known: KnownHostEntry[];
  /** Where keys were looked for, for the error message (`hostKeys`, a file path, `knownHosts`). */
  sources: string[];
}

export type HostKeyVerdict =
  | { accepted: true }
  | { accepted: false; reason: 'unknown' | 'mismatch' | 'revoked'; presented: string };

/** Compares the presented key to the pins and known_hosts entries for `name`. */
export function checkHostKey(policy: HostKeyPolicy, name: string, presented: Buffer): HostKeyVerdict {
  const fingerprint = fingerprintOf(presented);
  const shown = `${keyTypeOf(presented)} ${fingerprint}`;
  const forHost = policy.known.filter((entry) => matchesHost(entry.hosts, name));
  if (forHost.some((entry) => entry.marker === 'revoked' && entry.key.blob.equals(presented))) {
    return { accepted: false, reason: 'revoked', presented: shown };
  }
  for (const pin of policy.pins) {
    if ('fingerprint' in pin ? pin.fingerprint === fingerprint : pin.key.blob.equals(presented)) return { accepted: true };
  }
  const trusted = forHost.filter((entry) => entry.marker === undefined);
  if (trusted.some((entry) => entry.key.blob.equals(presented))) return { accepted: true };
  const knowsAny = policy.pins.length > 0 || trusted.length > 0;
  return { accepted: false, reason: knowsAny ? 'mismatch' : 'unknown', presented: shown };
}

/** Host key algorithms ssh2 can negotiate, by the key type written in known_hosts. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to ask for first, as OpenSSH does: a server with several host keys should
 * present one we know. Empty when only fingerprints are known (they do not say the type).
 */
export function preferredHostKeyAlgorithms(policy: HostKeyPolicy, name: string): string[] {
  const types = new Set<string>();
  for (const pin of policy.pins) if ('key' in pin) types.add(pin.key.type);
  for (const entry of policy.known) {
    if (entry.marker === undefined && matchesHost(entry.hosts, name)) types.add(entry.key.type);
  }
  return [...types].flatMap((type) => ALGORITHMS_BY_KEY_TYPE[type] ?? []);
}

/** Reads a known_hosts file; a missing file is empty (like OpenSSH), other errors propagate. */
export async function readKnownHostsFile(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
}
