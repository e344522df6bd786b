import * as grpc from '@grpc/grpc-js';
import { createGrpcPool, isPoolError, type GrpcPoolOptions } from '@pool/grpc';
import { invalidOptionsError } from '@pool/testkit';
import { startGrpcServer } from '@pool/testkit/grpc';
import { describe, expect, it } from 'vitest';

const insecure = grpc.credentials.createInsecure();

const refused = (target: string): Error =>
  invalidOptionsError(() => createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure } as GrpcPoolOptions));

describe('targets grpc-js can use', () => {
  it.each([
    '127.0.0.1:50051', 'localhost:50051', 'localhost', 'greeter.internal:443', '[::1]:50051', '::1',
    'dns:///greeter.internal:50051', 'dns://8.8.8.8/greeter.internal:50051', 'dns:greeter:1',
    'ipv4:127.0.0.1:1,127.0.0.2:2', 'ipv6:[::1]:50051', 'unix:/run/greeter.sock', 'unix:///run/greeter.sock',
    'unix-abstract:greeter', 'xds:///greeter',
  ])('accepts %s', async (target) => {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    await pool.close();
  });

  it.each([
    ['127.0.0.1:70000', /has port 70000/],
    ['127.0.0.1:0', /has port 0/],
    ['127.0.0.1:', /has port \(empty\)/],
    ['http://127.0.0.1:50051', /uses the scheme http:/],
    ['https://greeter.internal', /uses the scheme https:/],
    ['dns://8.8.8.8', /authority part ends with a slash/],
    ['ipv4:localhost:1', /not an IPv4 address/],
    ['greeter internal:1', /spaces/],
    ['[::1:50051', /unclosed \[/],
    ['a:b:c', /put an IPv6 address in brackets/],
  ])('refuses %s at createGrpcPool', (target, reason) => {
    const error = refused(target);
    expect(error.message).toMatch(/^Invalid option nodes\[0\]\.target: /);
    expect(error.message).toMatch(reason);
  });

  it('checks the target of a node added later', async () => {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target: '127.0.0.1:1' }], credentials: insecure });
    let error: unknown;
    try {
      pool.addNode({ id: 'b', target: 'http://x:1' });
    } catch (caught) {
      error = caught;
    }
    expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toMatch(/^Invalid option node\.target: /);
    expect(pool.nodes.map((node) => node.id)).toEqual(['a']);
    await pool.close();
  });
});

describe('why a create failed', () => {
  it("carries grpc-js's last error (ECONNREFUSED) in the message and as cause", async () => {
    const server = await startGrpcServer();
    await server.stop();
    const pool = createGrpcPool({ nodes: [{ id: 'a', target: server.target }], credentials: insecure, createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    const { message, cause } = error as Error & { cause: Error & { code?: string; cause?: Error & { code?: string } } };
    expect(message).toMatch(/TRANSIENT_FAILURE: connect ECONNREFUSED 127\.0\.0\.1:\d+/);
    expect(cause.code).toBe('ECONNREFUSED');
    expect(cause.cause?.message).toMatch(/^connect ECONNREFUSED/);
    await pool.close();
  });

  it('names the certificate problem when the server is not trusted', async () => {
    const { makeTestCertificates } = await import('@pool/testkit/tls');
    const server = await startGrpcServer({ tls: makeTestCertificates() });
    const pool = createGrpcPool({ nodes: [{ id: 'a', target: `localhost:${server.port}` }], createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/TRANSIENT_FAILURE: unable to verify the first certificate/);
    await pool.close();
    await server.stop();
  });
});
