import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

const { utils } = ssh2;

/** An SSH key pair in OpenSSH formats: `private` is the key file, `public` the authorized_keys line. */
export interface SshKeyPair {
  private: string;
  public: string;
  /** OpenSSH-style fingerprint of the public key, e.g. `SHA256:2xq...` (no padding). */
  fingerprint: string;
}

/**
 * Makes an ed25519 key pair (optionally encrypted with `passphrase`) with ssh2's pure-JS keygen.
 * ssh2 1.17 strips a public key's leading zero byte, so about 1 pair in 256 cannot be parsed back
 * (mscdex/ssh2#1390, #1513): such a pair is made again.
 */
export function generateSshKeyPair(options: { passphrase?: string; comment?: string } = {}): SshKeyPair {
  for (let attempt = 1; ; attempt++) {
    const pair = generateOnce(options);
    if (isParseable(pair, options.passphrase) || attempt === 20) return pair;
  }
}

function isParseable(pair: SshKeyPair, passphrase: string | undefined): boolean {
  return !(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private, passphrase) instanceof Error);
}

function generateOnce(options: { passphrase?: string; comment?: string }): SshKeyPair {
  const pair = options.passphrase === undefined
    ? utils.generateKeyPairSync('ed25519', { comment: options.comment ?? 'pool-test' })
    : utils.generateKeyPairSync('ed25519', {
        comment: options.comment ?? 'pool-test',
        passphrase: options.passphrase,
        cipher: 'aes256-ctr',
        rounds: 4,
      });
  return { private: pair.private, public: pair.public, fingerprint: sshFingerprint(pair.public) };
}

/** SHA256 fingerprint of an `ssh-xxx AAAA...` public key line, as `ssh-keygen -l` prints it. */
export function sshFingerprint(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The `known_hosts` line for `host:port` (plain `[host]:port` form unless the port is 22). */
export function knownHostsLine(host: string, port: number, publicKeyLine: string): string {
  const [type, key] = publicKeyLine.trim().split(/\s+/);
  return `${port === 22 ? host : `[${host}]:${port}`} ${type} ${key}`;
}
