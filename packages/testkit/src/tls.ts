import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of the self-signed certificate authority; give it to clients as `ca`. */
  ca: string;
  /** PEM server certificate for `localhost`, `127.0.0.1` and `::1`, signed by `ca`. */
  cert: string;
  /** PEM private key of `cert`. */
  key: string;
}

let cached: TestCertificates | undefined;

/**
 * Makes a throwaway CA and a server certificate signed by it, with the `openssl` command line
 * (Node has no API to issue certificates). Made once per process and reused.
 */
export function makeTestCertificates(): TestCertificates {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'pool-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pool test CA',
      '-keyout', file('ca.key'), '-out', file('ca.crt'));
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
      '-keyout', file('server.key'), '-out', file('server.csr'));
    writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
    openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-out', file('server.crt'));
    cached = {
      ca: readFileSync(file('ca.crt'), 'utf8'),
      cert: readFileSync(file('server.crt'), 'utf8'),
      key: readFileSync(file('server.key'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
