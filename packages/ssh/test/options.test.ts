import { describe, expect, it } from 'vitest';
import { createSshPool, type SshPoolOptions } from '@pool/ssh';
import { invalidOptionsError } from '@pool/testkit';
import { generateSshKeyPair } from '@pool/testkit/ssh';

const base: SshPoolOptions = { nodes: [{ id: 'a', host: '127.0.0.1', port: 22 }], username: 'u', password: 'p', knownHostsFile: false };

const invalid = (options: unknown): string => invalidOptionsError(() => createSshPool(options as SshPoolOptions)).message;

describe('options', () => {
  it('names the option, the value and the rule', () => {
    expect(invalid({ ...base, nodes: [] })).toBe('Invalid option nodes: got an array, must be a non-empty array of { id, host, port?, username?, ... }');
    expect(invalid({ ...base, nodes: [{ id: 'a', host: '' }] })).toMatch(/^Invalid option nodes\[0\]\.host: got "", must be a non-empty host name/);
    expect(invalid({ ...base, nodes: [{ id: 'a', host: 'h', port: 70_000 }] })).toBe('Invalid option nodes[0].port: got 70000, must be an integer from 1 to 65535');
    expect(invalid({ ...base, nodes: [{ id: 'a', host: 'h', hostKeys: ['MD5:aa:bb'] }] })).toMatch(/^Invalid option nodes\[0\]\.hostKeys\[0\]: got "MD5:aa:bb", must be a "SHA256:/);
    expect(invalid({ ...base, nodes: [{ id: 'a', host: 'h', maxSessions: 0 }] })).toBe('Invalid option nodes[0].maxSessions: got 0, must be an integer >= 1');
    expect(invalid({ ...base, keepaliveIntervalMs: -1 })).toMatch(/^Invalid option keepaliveIntervalMs: got -1, must be an integer >= 0/);
    expect(invalid({ ...base, keepaliveCountMax: 0 })).toBe('Invalid option keepaliveCountMax: got 0, must be an integer >= 1');
    expect(invalid({ ...base, acceptUnknownHostKeys_INSECURE: 'yes' })).toBe('Invalid option acceptUnknownHostKeys_INSECURE: got "yes", must be a boolean');
    expect(invalid({ ...base, knownHostsFile: '' })).toMatch(/^Invalid option knownHostsFile: got "", must be a non-empty file path or false/);
    expect(invalid({ ...base, connectOptions: { hostVerifier: () => true } })).toMatch(/^Invalid option connectOptions\.hostVerifier: .*@pool\/ssh manages it/);
    expect(invalid({ ...base, username: undefined })).toMatch(/^Invalid option nodes\[0\]\.username: got undefined, a login name is required/);
    expect(invalid({ ...base, password: undefined })).toMatch(/^Invalid option nodes\[0\]\.password\/privateKey\/agent: got none of them, one is required/);
    expect(invalid({ ...base, agent: 3 })).toMatch(/^Invalid option agent: got 3, must be the path of an ssh-agent socket/);
  });

  it('never shows a secret value, even when it is the invalid one', () => {
    const key = generateSshKeyPair({ passphrase: 'correct horse' });
    const message = invalid({ ...base, password: undefined, privateKey: key.private, passphrase: 'wrong horse' });
    expect(message).toMatch(/^Invalid option privateKey: got a string \(value hidden\), must be a private key ssh2 can read with the given passphrase \(.*bad passphrase/);
    expect(message).toContain('value hidden');
    expect(message).not.toContain('horse');
    expect(message).not.toContain(key.private.split('\n')[1] ?? 'x');
    expect(invalid({ ...base, password: 12345 })).toBe('Invalid option password: got a number (value hidden), must be a string');
    expect(invalid({ ...base, password: 12345 })).not.toContain('12345');
  });

  it('passes pool options to core, which validates them', () => {
    expect(invalid({ ...base, maxPerNode: 0 })).toMatch(/maxPerNode/);
  });

  it('validates nodes added at run time', async () => {
    const pool = createSshPool(base);
    try {
      expect(() => pool.addNode({ id: 'b', host: 'h', port: 0 })).toThrow('Invalid option node.port: got 0');
      pool.addNode({ id: 'b', host: 'h', port: 2222 });
      expect(pool.nodes.map((node) => node.id)).toEqual(['a', 'b']);
    } finally {
      await pool.close();
    }
  });
});

describe('pool name', () => {
  it('defaults to the first host, and name overrides it', async () => {
    const pool = createSshPool(base);
    const named = createSshPool({ ...base, name: 'build-hosts' });
    expect(pool.stats().name).toBe('127.0.0.1');
    expect(named.stats().name).toBe('build-hosts');
    await Promise.all([pool.close(), named.close()]);
  });
});
