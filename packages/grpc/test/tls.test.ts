import * as grpc from '@grpc/grpc-js';
import { makeTestCertificates } from '@pool/testkit/tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { settle, startServer, tearDown, TestService } from './helpers.js';
import { createGrpcPool, type GrpcPool } from '@pool/grpc';

const pools: GrpcPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await tearDown();
});

describe('TLS', () => {
  it('calls over TLS with the test CA', async () => {
    const certificates = makeTestCertificates();
    const server = await startServer({ tls: certificates, host: '127.0.0.1' });
    const pool = createGrpcPool({
      nodes: [{ id: 'tls', target: `localhost:${server.port}` }],
      credentials: grpc.credentials.createSsl(Buffer.from(certificates.ca)),
    });
    pools.push(pool);
    const { error, response } = await settle<EchoReply>((callback) => pool.client(TestService).Unary({ message: 'secure' }, callback));
    expect(error).toBeNull();
    expect(response?.message).toBe('secure');
  });

  it('verifies the server by default: an unknown CA fails the create, and the error holds no key material', async () => {
    const certificates = makeTestCertificates();
    const server = await startServer({ tls: certificates });
    // No credentials given: the default is createSsl() with the system roots.
    const pool = createGrpcPool({
      nodes: [{ id: 'tls', target: `localhost:${server.port}` }],
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    pools.push(pool);
    const error = await pool.acquire().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe('CREATE_FAILED');
    expect(JSON.stringify(pool.stats())).not.toContain('PRIVATE KEY');
    expect(String(error?.message)).not.toContain('PRIVATE KEY');
  });
});
